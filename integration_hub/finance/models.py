from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from integration_hub.finance.choices import JournalState


class Settlement(models.Model):
    """One Amazon settlement (disbursement) report, from its summary row."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.PROTECT, related_name="settlements")
    settlement_id = models.CharField(max_length=20)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    deposit_date = models.DateTimeField(null=True, blank=True)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    line_count = models.PositiveIntegerField(default=0)
    source_name = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-end_date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "settlement_id"], name="unique_settlement_per_account"),
        ]

    def __str__(self):
        return f"Settlement {self.settlement_id}"


class SettlementLine(models.Model):
    """One detail row of a settlement report, kept exactly as Amazon reported it."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(help_text="Line in the file (the header is line 1).")
    transaction_type = models.CharField(max_length=80)
    order_id = models.CharField(max_length=40, blank=True)
    merchant_order_id = models.CharField(max_length=60, blank=True)
    adjustment_id = models.CharField(max_length=60, blank=True)
    shipment_id = models.CharField(max_length=60, blank=True)
    marketplace_name = models.CharField(max_length=60, blank=True)
    amount_type = models.CharField(max_length=80, blank=True)
    amount_description = models.CharField(max_length=120, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    fulfillment_id = models.CharField(max_length=10, blank=True)
    posted_date = models.DateTimeField(null=True, blank=True)
    order_item_code = models.CharField(max_length=40, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    quantity_purchased = models.IntegerField(null=True, blank=True)
    promotion_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["settlement", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "line_number"], name="unique_settlement_line"),
        ]


class Journal(models.Model):
    """The summarised, balanced journal for a settlement (or the part of it in one month)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="journals")
    period = models.DateField(help_text="First day of the accounting month this journal belongs to.")
    date = models.DateField()
    state = models.CharField(max_length=15, choices=JournalState.choices, default=JournalState.READY)
    posted_ref = models.CharField(max_length=60, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["settlement", "period"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "period"], name="unique_journal_per_period"),
            models.CheckConstraint(
                condition=~Q(state="posted") | (Q(posted_at__isnull=False) & ~Q(posted_ref="")),
                name="posted_journal_has_reference",
            ),
        ]

    def __str__(self):
        return f"Journal {self.settlement.settlement_id} {self.period:%Y-%m}"

    def ensure_editable(self):
        if self.state == JournalState.POSTED:
            raise ValidationError(f"{self} was posted as {self.posted_ref} and cannot be changed")


class JournalLine(models.Model):
    """One summarised line: a GL account's debit or credit for a currency and marketplace."""

    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="lines")
    gl_account = models.CharField(max_length=40)
    description = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    marketplace = models.CharField(max_length=60, blank=True)
    debit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credit = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["journal", "gl_account"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0, credit__gte=0) & (Q(debit=0) | Q(credit=0)),
                name="journal_line_one_side",
            ),
        ]
