from django.db import models


class Direction(models.TextChoices):
    OUTBOUND = "out", "Hub → system"
    INBOUND = "in", "System → hub"


class Outcome(models.TextChoices):
    PENDING = "pending", "In flight"
    OK = "ok", "OK"
    TRANSIENT = "transient", "Transient failure"
    PERMANENT = "permanent", "Permanent failure"

    @classmethod
    def failures(cls):
        return [cls.TRANSIENT, cls.PERMANENT]


OUTCOME_BADGES = {
    Outcome.PENDING: "info",
    Outcome.OK: "success",
    Outcome.TRANSIENT: "warning",
    Outcome.PERMANENT: "danger",
}
