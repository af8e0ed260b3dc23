"""Alerts: the rules are evaluated every minute; each delivery is a work item on the default lane."""

from integration_hub.alerts import services
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import handler
from integration_hub.sync.scheduler import repeating

EVALUATE_EVERY = 60


@repeating("alerts.evaluate", every=EVALUATE_EVERY)
def evaluate_rules():
    """Open incidents for what the rules find now, resolve those they no longer find, queue deliveries."""
    opened, resolved = services.evaluate()
    return f"{opened} opened, {resolved} resolved"


@handler(WorkKind.DELIVER_ALERT)
def deliver_alert(item):
    """Send one message (key "<alert pk>:<opened|resolved>:<email|chat>")."""
    return services.deliver(item.key)
