from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "integration_hub.inventory"
    label = "inventory"
