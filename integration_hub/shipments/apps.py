from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _retry_after_commit(sender, instance, **kwargs):
    """A new or changed carrier map may unblock confirmations that died for want of it: retry them once
    it is saved (ops cannot retry dead letters themselves, and nothing else would)."""
    from integration_hub.shipments.services import retry_for_ship_method

    if instance.active:
        ship_method = instance.warehouse_ship_method
        transaction.on_commit(lambda: retry_for_ship_method(ship_method))


class ShipmentsConfig(AppConfig):
    name = "integration_hub.shipments"
    label = "shipments"

    def ready(self):
        post_save.connect(_retry_after_commit, sender="mappings.CarrierMap", dispatch_uid="shipments.retry_dead")
