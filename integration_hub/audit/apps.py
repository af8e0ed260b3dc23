from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who did what: the actions people take on orders, work, settlements, connections and queues."""

    name = "integration_hub.audit"
    label = "audit"
