"""The tables operations and finance edit: how the hub translates between Amazon and the back office."""

import fnmatch
import math

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from connectors.choices import BackOfficeKind
from integration_hub.orders.choices import OrderStatus
from mappings.carrier_codes import CARRIER_CODES, OTHER
from mappings.choices import VelocityTier


def validate_carrier_code(value):
    if value not in CARRIER_CODES:
        raise ValidationError(
            "%(value)s is not a carrier code Amazon accepts; pick one from the list or use Other "
            "with a carrier name.",
            params={"value": value},
            code="unknown_carrier_code",
        )


class CarrierMap(models.Model):
    """Warehouse ship method -> what Amazon's confirmShipment needs (carrierCode, carrierName, shippingMethod)."""

    warehouse_ship_method = models.CharField(
        max_length=100, unique=True, help_text="As the warehouse names it, e.g. 'Royal Mail Tracked 24'."
    )
    carrier_code = models.CharField(max_length=60, validators=[validate_carrier_code],
                                    help_text="Amazon carrierCode from Seller Central's list.")
    carrier_name = models.CharField(max_length=100, blank=True, help_text="Only when the carrier code is Other.")
    shipping_method = models.CharField(max_length=100, blank=True, help_text="Amazon shippingMethod (optional).")
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["warehouse_ship_method"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(carrier_code=OTHER) & ~Q(carrier_name="")) | (~Q(carrier_code=OTHER) & Q(carrier_name="")),
                name="carrier_name_only_for_other",
                violation_error_message="A carrier name is required with Other and only allowed with Other.",
            ),
        ]

    def __str__(self):
        return f"{self.warehouse_ship_method} → {self.carrier_name or self.carrier_code}"

    def clean(self):
        if self.carrier_code == OTHER and not self.carrier_name:
            raise ValidationError({"carrier_name": "Other needs the carrier's name."})
        if self.carrier_code != OTHER and self.carrier_name:
            raise ValidationError({"carrier_name": "Give a carrier name only with the code Other."})


class ShipLevelMap(models.Model):
    """Amazon ship service level -> the warehouse ship method an order must use."""

    ship_service_level = models.CharField(
        max_length=100,
        help_text="Amazon's shipping speed category (Orders API 2026-01-01 fulfillmentServiceLevel): "
                  "STANDARD, EXPEDITED, NEXT_DAY, SECOND_DAY, PRIORITY, SAME_DAY, SCHEDULED or FREE_ECONOMY.",
    )
    marketplace_id = models.CharField(max_length=20, blank=True, help_text="Blank: every marketplace.")
    is_prime = models.BooleanField(null=True, blank=True, help_text="Blank: Prime and non-Prime orders alike.")
    warehouse_ship_method = models.CharField(max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["ship_service_level", "marketplace_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ship_service_level", "marketplace_id", "is_prime"],
                nulls_distinct=False,
                name="unique_ship_level",
            ),
        ]

    def __str__(self):
        return f"{self.ship_service_level} → {self.warehouse_ship_method}"

    @classmethod
    def resolve(cls, ship_service_level, marketplace_id="", is_prime=False):
        """The most specific rule for an order, or None (the order is held)."""
        return cls.resolver([ship_service_level])(ship_service_level, marketplace_id, is_prime)

    @classmethod
    def resolver(cls, ship_service_levels):
        """resolve() for many orders with one query: a function (level, marketplace, prime) -> rule or None,
        for the levels given."""
        rules = list(cls.objects.filter(ship_service_level__in=set(ship_service_levels)))

        def resolve(ship_service_level, marketplace_id="", is_prime=False):
            candidates = [rule for rule in rules if rule.ship_service_level == ship_service_level
                          and rule.marketplace_id in (marketplace_id, "") and rule.is_prime in (is_prime, None)]
            return min(candidates, key=lambda m: (m.marketplace_id == "", m.is_prime is None), default=None)

        return resolve


class SkuLink(models.Model):
    """Amazon SellerSKU <-> back-office item code for one seller account."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="sku_links")
    seller_sku = models.CharField(max_length=100)
    item_code = models.CharField(max_length=60)
    pack_multiplier = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)],
        help_text="Back-office units per Amazon unit (a 6-pack SKU of single items is 6).",
    )
    velocity_tier = models.CharField(max_length=10, choices=VelocityTier.choices, default=VelocityTier.MEDIUM)
    handling_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Listing handling time, carried with every quantity update."
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["account", "seller_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "seller_sku"], name="unique_sku_link",
                violation_error_message="This seller SKU is already linked for this account.",
            ),
            models.CheckConstraint(condition=Q(pack_multiplier__gte=1), name="pack_multiplier_positive"),
        ]

    def __str__(self):
        return f"{self.seller_sku} ↔ {self.item_code}"

    def amazon_quantity(self, back_office_units):
        """Whole Amazon units that the back office's units make up."""
        return max(0, back_office_units // self.pack_multiplier)


class StockBuffer(models.Model):
    """Stock held back from Amazon: for one SKU, or for every SKU of a velocity tier."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="stock_buffers")
    seller_sku = models.CharField(max_length=100, blank=True, help_text="Blank: the rule is for a velocity tier.")
    velocity_tier = models.CharField(max_length=10, choices=VelocityTier.choices, blank=True)
    fixed_units = models.PositiveIntegerField(default=0)
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=0,
                                  validators=[MinValueValidator(0), MaxValueValidator(100)])
    history = HistoricalRecords()

    class Meta:
        ordering = ["account", "seller_sku", "velocity_tier"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(seller_sku="") & Q(velocity_tier="")) | (Q(seller_sku="") & ~Q(velocity_tier="")),
                name="buffer_for_sku_or_tier",
                violation_error_message="A buffer is either for one SKU or for a velocity tier, not both.",
            ),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="buffer_percent_range"),
            models.UniqueConstraint(fields=["account", "seller_sku", "velocity_tier"], name="unique_buffer"),
        ]

    def __str__(self):
        return f"{self.seller_sku or self.get_velocity_tier_display()}: -{self.fixed_units} -{self.percent}%"

    def apply(self, available):
        """Quantity to offer on Amazon: available minus the buffer, never below zero."""
        held_back = self.fixed_units + math.ceil(available * self.percent / 100)
        return max(0, available - held_back)

    @classmethod
    def for_sku(cls, account, seller_sku, velocity_tier):
        """The rule for one SKU (see BufferRules for many)."""
        account_id = getattr(account, "pk", account)
        return BufferRules([account_id]).find(account_id, seller_sku, velocity_tier)


class BufferRules:
    """Every buffer rule of some accounts, read in one query: the SKU's own rule wins over its tier's."""

    def __init__(self, account_ids):
        self.rules = {(rule.account_id, rule.seller_sku, rule.velocity_tier): rule
                      for rule in StockBuffer.objects.filter(account_id__in=list(account_ids))}

    def find(self, account_id, seller_sku, velocity_tier):
        return self.rules.get((account_id, seller_sku, "")) or self.rules.get((account_id, "", velocity_tier))

    def for_link(self, link):
        return self.find(link.account_id, link.seller_sku, link.velocity_tier)


class GlAccountMap(models.Model):
    """Settlement line (transaction-type / amount-type / amount-description, * and ? wildcards) -> GL account."""

    transaction_type = models.CharField(max_length=80, default="*")
    amount_type = models.CharField(max_length=80, default="*")
    amount_description = models.CharField(max_length=120, default="*")
    gl_account = models.CharField(max_length=40)
    description = models.CharField(max_length=200, help_text="Journal line description.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["transaction_type", "amount_type", "amount_description"]
        verbose_name = "GL account map"
        constraints = [
            models.UniqueConstraint(
                fields=["transaction_type", "amount_type", "amount_description"], name="unique_gl_rule",
                violation_error_message="A rule for this combination already exists.",
            ),
        ]

    def __str__(self):
        return f"{self.transaction_type}/{self.amount_type}/{self.amount_description} → {self.gl_account}"

    @property
    def specificity(self):
        """Exact fields beat patterns; the description counts most, then amount type, then transaction type."""
        return tuple(not any(c in value for c in "*?[") for value in
                     (self.amount_description, self.amount_type, self.transaction_type))

    def matches(self, transaction_type, amount_type, amount_description):
        return all(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for value, pattern in (
            (transaction_type, self.transaction_type), (amount_type, self.amount_type),
            (amount_description, self.amount_description)))

    @classmethod
    def ordered_rules(cls):
        """All rules, most specific first: the first that matches a line wins."""
        return sorted(cls.objects.all(), key=lambda rule: rule.specificity, reverse=True)


class OrderStatusMap(models.Model):
    """A back office's order status word <-> the hub's order status."""

    back_office_kind = models.CharField(max_length=20, choices=BackOfficeKind.choices)
    back_office_status = models.CharField(max_length=40)
    hub_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["back_office_kind", "back_office_status"]
        constraints = [
            models.UniqueConstraint(fields=["back_office_kind", "back_office_status"], name="unique_status_map"),
        ]

    def __str__(self):
        return f"{self.get_back_office_kind_display()} {self.back_office_status} ↔ {self.get_hub_status_display()}"


AMAZON_ORDER_FIELDS = [
    ("amazon_order_id", "AmazonOrderId"), ("marketplace_id", "MarketplaceId"),
    ("ship_service_level", "ShipServiceLevel"), ("is_prime", "IsPrime"), ("is_business", "IsBusinessOrder"),
    ("latest_ship_date", "LatestShipDate"), ("earliest_ship_date", "EarliestShipDate"),
    ("latest_delivery_date", "LatestDeliveryDate"), ("purchase_date", "PurchaseDate"),
    ("order_total", "OrderTotal"), ("fulfillment_channel", "FulfillmentChannel"),
]


class CustomFieldMap(models.Model):
    """An Amazon order field copied into a back-office custom/user field."""

    back_office_kind = models.CharField(max_length=20, choices=BackOfficeKind.choices)
    amazon_field = models.CharField(max_length=40, choices=AMAZON_ORDER_FIELDS)
    back_office_field = models.CharField(max_length=60, help_text="e.g. string1 (Clarus), UserFld1 (Sage 500).")
    history = HistoricalRecords()

    class Meta:
        ordering = ["back_office_kind", "amazon_field"]
        constraints = [
            models.UniqueConstraint(fields=["back_office_kind", "back_office_field"], name="unique_custom_field"),
        ]

    def __str__(self):
        return f"{self.amazon_field} → {self.back_office_field}"


class CatalogueReview(models.Model):
    """Onboarding a catalogue: the seller's Amazon listings (a listings report) beside the back office's
    items, read once, so ops can link the SellerSKUs in bulk (dashboard.onboarding)."""

    class State(models.TextChoices):
        ASKED = "asked", "Amazon is preparing the listings report"
        READY = "ready", "Ready to review"
        FAILED = "failed", "Failed"

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="catalogue_reviews")
    report_id = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    requested_by = models.CharField(max_length=150)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ASKED)
    note = models.TextField(blank=True)
    listings = models.JSONField(default=list, blank=True, help_text="[{sku, title}] of the listings report")
    items = models.JSONField(default=list, blank=True, help_text="[{code, description}] of the back office")
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.account} catalogue review {self.requested_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"
