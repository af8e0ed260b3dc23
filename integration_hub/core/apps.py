from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "integration_hub.core"
    label = "core"

    def ready(self):
        from integration_hub.core import lookups  # noqa: F401 - registers field__any
        from integration_hub.core.roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="integration_hub.core.sync_roles")
