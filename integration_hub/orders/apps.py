from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "integration_hub.orders"
    label = "orders"
