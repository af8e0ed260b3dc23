from django.db import models


class RuleKind(models.TextChoices):
    """What a rule watches; `threshold` means what the help text of each says (see rules.py)."""

    UNCONFIRMED_NEAR_SHIP_BY = "unconfirmed_near_ship_by", "Orders near ship-by still unconfirmed"
    LATE_TO_DISPATCH = "late_to_dispatch", "Orders past ship-by the warehouse has not dispatched"
    SCHEDULE_OVERDUE = "schedule_overdue", "A schedule is overdue"
    CIRCUIT_OPEN = "circuit_open", "A circuit is open (a system keeps failing)"
    CONNECTION_SILENT = "connection_silent", "A back-office connection is silent"
    HELD_ORDERS = "held_orders", "Orders held longer than the threshold"
    DEAD_LETTERS = "dead_letters", "Dead letters"
    QUOTA_EXHAUSTED = "quota_exhausted", "Amazon quota exhausted (429s)"
    INTAKE_LAG = "intake_lag", "Order intake lag"
    HEALTH_TARGET = "health_target", "Late Shipment / Valid Tracking / cancellation rate misses its target"
    AMAZON_STATUS = "amazon_status", "Amazon reports the account AT_RISK or DEACTIVATED"
    HEALTH_FORECAST = "health_forecast", "A few more late orders (or the packages waiting) would miss a target"


# What `threshold` means for each kind, and its default.
THRESHOLDS = {
    RuleKind.UNCONFIRMED_NEAR_SHIP_BY: ("hours before ship-by", 4),
    RuleKind.LATE_TO_DISPATCH: ("orders (at least)", 1),
    RuleKind.SCHEDULE_OVERDUE: ("minutes of grace after the interval", 5),
    RuleKind.CIRCUIT_OPEN: ("minutes open (at least)", 5),
    RuleKind.CONNECTION_SILENT: ("minutes without a success", 30),
    RuleKind.HELD_ORDERS: ("minutes held", 30),
    RuleKind.DEAD_LETTERS: ("dead letters (at least)", 1),
    RuleKind.QUOTA_EXHAUSTED: ("429 answers in the last 15 minutes", 20),
    RuleKind.INTAKE_LAG: ("minutes of lag", 15),
    RuleKind.HEALTH_TARGET: ("(unused: Amazon's targets apply)", 0),
    RuleKind.AMAZON_STATUS: ("(unused: Amazon's own status)", 0),
    RuleKind.HEALTH_FORECAST: ("late orders the account can still absorb (at most)", 2),
}


class Severity(models.TextChoices):
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
