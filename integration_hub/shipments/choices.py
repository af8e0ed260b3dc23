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
