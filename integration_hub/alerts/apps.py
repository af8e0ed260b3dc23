from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsConfig(AppConfig):
    """People are told: alert rules, the incidents they open and resolve, and their delivery."""

    name = "integration_hub.alerts"
    label = "alerts"

    def ready(self):
        from integration_hub.alerts import jobs  # noqa: F401 - registers the repeating job and the handler
        from integration_hub.alerts.defaults import add_default_rules

        post_migrate.connect(add_default_rules, sender=self, dispatch_uid="integration_hub.alerts.defaults")
