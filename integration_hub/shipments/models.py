import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from integration_hub.shipments.choices import CONFIRMATION_BADGES, ConfirmationState, WaitingReason


class ShipmentQuerySet(models.QuerySet):
    def unconfirmed(self):
        """Packages Amazon has not been told about yet, most urgent ship-by first."""
        return self.exclude(confirmation_state=ConfirmationState.CONFIRMED).order_by(
            models.F("order__latest_ship_date").asc(nulls_last=True), "created_at"
        )

    def due_before(self, moment):
        return self.filter(order__latest_ship_date__lt=moment)

    def at_risk(self, now=None, hours=4):
        """Unconfirmed packages whose order must be confirmed within `hours` (or is already late)."""
        return self.unconfirmed().due_before((now or timezone.now()) + dt.timedelta(hours=hours))


class Shipment(models.Model):
    """One package dispatched by the warehouse; each is one confirmShipment call to Amazon."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    dispatch_ref = models.CharField(max_length=60, help_text="The back office's dispatch/shipper reference.")
    package_reference_id = models.PositiveIntegerField(help_text="Amazon packageReferenceId (positive number).")
    carrier = models.CharField(max_length=100, help_text="Carrier as the warehouse names it.")
    ship_method = models.CharField(max_length=100, help_text="Ship method as the warehouse names it.")
    tracking_number = models.CharField(max_length=100)
    package_ref = models.CharField(max_length=60, blank=True,
                                   help_text="The back office's package reference, when it has one.")
    shipped_at = models.DateTimeField()
    confirmation_state = models.CharField(
        max_length=10, choices=ConfirmationState.choices, default=ConfirmationState.PENDING
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-shipped_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "package_reference_id"], name="unique_package_per_order"),
            models.UniqueConstraint(
                fields=["order", "dispatch_ref", "tracking_number"], name="unique_dispatch_package"
            ),
            models.CheckConstraint(
                condition=Q(confirmation_state="confirmed", confirmed_at__isnull=False)
                | ~Q(confirmation_state="confirmed"),
                name="confirmed_has_time",
            ),
        ]
        indexes = [
            # Dashboard: Shipment.objects.unconfirmed() ordered by the order's ship-by time.
            models.Index(fields=["created_at"], condition=~Q(confirmation_state="confirmed"),
                         name="shipment_unconfirmed"),
        ]

    def __str__(self):
        return f"{self.order} package {self.package_reference_id} ({self.tracking_number})"

    @property
    def badge(self):
        return CONFIRMATION_BADGES[self.confirmation_state]

    def mark_confirmed(self):
        if self.confirmation_state == ConfirmationState.CONFIRMED:
            return
        self.confirmation_state = ConfirmationState.CONFIRMED
        self.confirmed_at = timezone.now()
        self.last_error = ""
        self.save(update_fields=["confirmation_state", "confirmed_at", "last_error"])

    def mark_failed(self, error):
        if self.confirmation_state == ConfirmationState.CONFIRMED:
            raise ValidationError(f"shipment {self} is already confirmed")
        self.confirmation_state = ConfirmationState.FAILED
        self.last_error = error
        self.save(update_fields=["confirmation_state", "last_error"])


class ShipmentLine(models.Model):
    """How much of one order line went in this package, in warehouse units and in Amazon units.

    Amazon counts packs of the line's pack_multiplier; a pack split over packages counts in the package
    that completes it, so a package may hold units of a line but quantity 0 for Amazon.
    """

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines")
    units = models.PositiveIntegerField(default=0, help_text="Units as the warehouse counts them.")
    quantity = models.PositiveIntegerField(help_text="Units as Amazon counts them (what is confirmed).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="unique_line_per_shipment"),
            models.CheckConstraint(condition=Q(quantity__gt=0) | Q(units__gt=0), name="shipment_line_not_empty"),
        ]


class UnmatchedDispatch(models.Model):
    """A dispatch the hub cannot confirm yet: its order is not in the hub, or a package has no tracking
    number or the dispatch no packages yet. Replayed on every dispatch poll (the incomplete ones read
    afresh from the back office) until it can be recorded; shown on the Shipments page and dashboard."""

    connection = models.ForeignKey("connectors.BackOfficeConnection", on_delete=models.CASCADE,
                                   related_name="unmatched_dispatches")
    amazon_order_id = models.CharField(max_length=40)
    dispatch_ref = models.CharField(max_length=60)
    reason = models.CharField(max_length=10, choices=WaitingReason.choices, default=WaitingReason.UNKNOWN_ORDER)
    payload = models.JSONField(help_text="The dispatch as read from the back office (no buyer data).")
    received_at = models.DateTimeField(auto_now_add=True)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["received_at"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "dispatch_ref", "amazon_order_id"],
                                    name="unique_unmatched_dispatch"),
        ]

    def __str__(self):
        return f"{self.amazon_order_id} dispatch {self.dispatch_ref} ({self.get_reason_display().lower()})"
