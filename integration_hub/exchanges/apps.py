from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "integration_hub.exchanges"
    label = "exchanges"
