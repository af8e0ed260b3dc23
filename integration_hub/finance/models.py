from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

from integration_hub.finance.choices import JOURNAL_BADGES, RECON_BADGES, JournalState, ReconCategory


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
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconciliation_note = models.TextField(
        blank=True, help_text="Why the back office was not (fully) checked, when it was not."
    )

    class Meta:
        ordering = ["-end_date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "settlement_id"], name="unique_settlement_per_account"),
        ]

    def __str__(self):
        return f"Settlement {self.settlement_id}"

    @property
    def is_posted(self):
        return self.journals.filter(state=JournalState.POSTED).exists()

    @property
    def needs_mapping(self):
        return self.journals.filter(state=JournalState.NEEDS_MAPPING).exists()

    def reconciliation_summary(self):
        """Count and amount per category, in the order the categories are declared."""
        rows = {row["category"]: row for row in self.reconciliation_lines.values("category").annotate(
            count=Count("id"), settled=Sum("settled_amount"), ordered=Sum("order_amount"))}
        return [{"category": value, "label": label, "badge": RECON_BADGES[value], **rows[value]}
                for value, label in ReconCategory.choices if value in rows]


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

    @property
    def badge(self):
        return JOURNAL_BADGES[self.state]

    @property
    def reference(self):
        """The GL batch reference: the settlement id, plus the month when the settlement was split."""
        if self.settlement.journals.count() > 1:
            return f"{self.settlement.settlement_id}-{self.period:%Y%m}"
        return self.settlement.settlement_id

    def ensure_editable(self):
        if self.state == JournalState.POSTED:
            raise ValidationError(f"{self} was posted as {self.posted_ref} and cannot be changed")

    def ensure_postable(self):
        self.ensure_editable()
        if self.state != JournalState.READY:
            raise ValidationError(f"{self} needs GL mapping before it can be posted")

    def mark_posted(self, posted_ref):
        """Ready -> posted, once: a compare-and-swap so two workers cannot both post it."""
        self.ensure_postable()
        now = timezone.now()
        updated = Journal.objects.filter(pk=self.pk, state=JournalState.READY).update(
            state=JournalState.POSTED, posted_ref=posted_ref, posted_at=now
        )
        if not updated:
            raise ValidationError(f"{self} was posted by someone else meanwhile")
        self.state, self.posted_ref, self.posted_at = JournalState.POSTED, posted_ref, now

    def save(self, *args, **kwargs):
        if self.pk and Journal.objects.filter(pk=self.pk, state=JournalState.POSTED).exists():
            raise ValidationError(f"{self} is posted and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    def totals(self):
        return self.lines.aggregate(debit=Sum("debit", default=0), credit=Sum("credit", default=0))


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

    @property
    def full_description(self):
        """The description with the marketplace, as exported and posted."""
        return f"{self.description} ({self.marketplace})" if self.marketplace else self.description

    def save(self, *args, **kwargs):
        self.journal.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.journal.ensure_editable()
        return super().delete(*args, **kwargs)


class UnmappedCombination(models.Model):
    """A transaction-type/amount-type/amount-description no GL rule matches: it holds the journal."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="unmapped")
    transaction_type = models.CharField(max_length=80)
    amount_type = models.CharField(max_length=80, blank=True)
    amount_description = models.CharField(max_length=120, blank=True)
    line_count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["settlement", "transaction_type", "amount_type", "amount_description"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "transaction_type", "amount_type", "amount_description"],
                                    name="unique_unmapped_combination"),
        ]

    def __str__(self):
        return f"{self.transaction_type}/{self.amount_type}/{self.amount_description}"


class ReconciliationLine(models.Model):
    """One order item or refund of a settlement (or a dispatch not yet settled) and what it matched."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="reconciliation_lines")
    category = models.CharField(max_length=20, choices=ReconCategory.choices)
    order_id = models.CharField(max_length=40, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    order_line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="reconciliation_lines"
    )
    quantity_settled = models.IntegerField(null=True, blank=True)
    quantity_dispatched = models.IntegerField(null=True, blank=True)
    settled_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Item price (principal) or refund total as settled."
    )
    order_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="The order's price for that quantity."
    )
    back_office_ref = models.CharField(max_length=60, blank=True)
    back_office_status = models.CharField(
        max_length=60, blank=True, help_text="Blank: not checked (no back office, or the check failed)."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["settlement", "category", "order_id", "sku"]
        indexes = [
            # Reconciliation page: a settlement's lines of one category.
            models.Index(fields=["settlement", "category"], name="recon_by_category"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.sku}: {self.get_category_display()}"

    @property
    def badge(self):
        return RECON_BADGES[self.category]


class SettlementUpload(models.Model):
    """A settlement report finance uploaded, imported by a job (never in the web request). The file is kept
    in Postgres until the job has run, so a lost worker or a flushed Redis loses nothing; the import's
    progress is shown on the upload's page."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Rejected"

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.PROTECT, related_name="uploads")
    source_name = models.CharField(max_length=255)
    content = models.BinaryField(help_text="The file as uploaded; emptied once the import has run.")
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.TextField(blank=True)
    settlement = models.ForeignKey(Settlement, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="uploads")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.source_name} ({self.get_state_display().lower()})"
