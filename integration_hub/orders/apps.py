from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _recheck_after_commit(sender, instance, **kwargs):
    """A saved SKU link or ship-level map may fix held orders: validate them again once it is saved
    (one work item per account, or for all accounts; asked again if one is already running)."""
    from integration_hub.sync.choices import WorkKind
    from integration_hub.sync.engine import submit

    if not getattr(instance, "active", True):  # ship-level maps have no active flag
        return
    account_id = getattr(instance, "account_id", None)
    key = f"account:{account_id}" if account_id else "all"
    transaction.on_commit(lambda: submit(WorkKind.RECHECK_HELD, key, reset=True))


class OrdersConfig(AppConfig):
    name = "integration_hub.orders"
    label = "orders"

    def ready(self):
        for model in ("mappings.SkuLink", "mappings.ShipLevelMap"):
            post_save.connect(_recheck_after_commit, sender=model, dispatch_uid=f"orders.recheck.{model}")
