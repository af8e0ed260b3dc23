"""The rules a new hub starts with: one per kind, kept on the alerts page and sent nowhere until an
admin adds an e-mail address or a chat webhook. Added after `migrate` when there are no rules at all
(so an admin's deletions stand)."""

DEFAULTS = [
    ("Orders near ship-by unconfirmed", "unconfirmed_near_ship_by", "critical"),
    ("Orders past ship-by not dispatched", "late_to_dispatch", "critical"),
    ("Schedule overdue", "schedule_overdue", "critical"),
    ("Circuit open", "circuit_open", "warning"),
    ("Back office silent", "connection_silent", "critical"),
    ("Orders held too long", "held_orders", "warning"),
    ("Dead letters", "dead_letters", "warning"),
    ("Amazon quota exhausted", "quota_exhausted", "warning"),
    ("Order intake behind", "intake_lag", "critical"),
    ("Account health target missed", "health_target", "critical"),
    ("Amazon says the account is at risk", "amazon_status", "critical"),
    ("Account health forecast", "health_forecast", "warning"),
]


def add_default_rules(using="default", **kwargs):
    from integration_hub.alerts.choices import THRESHOLDS
    from integration_hub.alerts.models import AlertRule

    if AlertRule.objects.using(using).exists():
        return
    AlertRule.objects.using(using).bulk_create(
        [AlertRule(name=name, kind=kind, threshold=THRESHOLDS[kind][1], severity=severity)
         for name, kind, severity in DEFAULTS])
