from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "integration_hub.shipments"
    label = "shipments"
