from django.db import models


class OrderStatus(models.TextChoices):
    """One internal status for both Amazon API versions (v0 PascalCase, 2026-01-01 upper-case)."""

    PENDING_AVAILABILITY = "pending_availability", "Pending availability"
    PENDING = "pending", "Pending"
    UNSHIPPED = "unshipped", "Unshipped"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    INVOICE_UNCONFIRMED = "invoice_unconfirmed", "Invoice unconfirmed"
    CANCELLED = "cancelled", "Cancelled"
    UNFULFILLABLE = "unfulfillable", "Unfulfillable"


AMAZON_STATUS_MAP = {
    # Orders API v0
    "PendingAvailability": OrderStatus.PENDING_AVAILABILITY,
    "Pending": OrderStatus.PENDING,
    "Unshipped": OrderStatus.UNSHIPPED,
    "PartiallyShipped": OrderStatus.PARTIALLY_SHIPPED,
    "Shipped": OrderStatus.SHIPPED,
    "InvoiceUnconfirmed": OrderStatus.INVOICE_UNCONFIRMED,
    "Canceled": OrderStatus.CANCELLED,
    "Unfulfillable": OrderStatus.UNFULFILLABLE,
    # Orders API 2026-01-01
    "PENDING_AVAILABILITY": OrderStatus.PENDING_AVAILABILITY,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": OrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
    "UNFULFILLABLE": OrderStatus.UNFULFILLABLE,
}


def status_from_amazon(value):
    try:
        return AMAZON_STATUS_MAP[value]
    except KeyError:
        raise ValueError(f"unknown Amazon order status {value!r}") from None


class HubState(models.TextChoices):
    """Where the order is in the hub's own pipeline."""

    RECEIVED = "received", "Received"
    HELD = "held", "Held for review"
    SENT = "sent", "Sent to back office"
    CANCELLED = "cancelled", "Cancelled"


HUB_STATE_BADGES = {
    HubState.RECEIVED: "secondary",
    HubState.HELD: "warning",
    HubState.SENT: "success",
    HubState.CANCELLED: "dark",
}
