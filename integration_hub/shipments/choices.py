from django.db import models


class ConfirmationState(models.TextChoices):
    PENDING = "pending", "Awaiting confirmation"
    CONFIRMED = "confirmed", "Confirmed on Amazon"
    FAILED = "failed", "Failed (dead letter)"


CONFIRMATION_BADGES = {
    ConfirmationState.PENDING: "warning",
    ConfirmationState.CONFIRMED: "success",
    ConfirmationState.FAILED: "danger",
}


class WaitingReason(models.TextChoices):
    """Why a dispatch read from the back office cannot be confirmed yet (it waits, visibly)."""

    UNKNOWN_ORDER = "order", "Order not in the hub yet"
    NO_TRACKING = "tracking", "A package has no tracking number yet"
    NO_PACKAGES = "packages", "No packages yet"
