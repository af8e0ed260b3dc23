from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from integration_hub.shipments.choices import ConfirmationState


class ShipmentQuerySet(models.QuerySet):
    def unconfirmed(self):
        return self.exclude(confirmation_state=ConfirmationState.CONFIRMED)

    def due_before(self, moment):
        return self.filter(order__latest_ship_date__lt=moment)


class Shipment(models.Model):
    """One package dispatched by the warehouse; each is one confirmShipment call to Amazon."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    dispatch_ref = models.CharField(max_length=60, help_text="The back office's dispatch/shipper reference.")
    package_reference_id = models.PositiveIntegerField(help_text="Amazon packageReferenceId (positive number).")
    carrier = models.CharField(max_length=100, help_text="Carrier as the warehouse names it.")
    ship_method = models.CharField(max_length=100, help_text="Ship method as the warehouse names it.")
    tracking_number = models.CharField(max_length=100)
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
    """How many of one order line went in this package."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="unique_line_per_shipment"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
        ]
