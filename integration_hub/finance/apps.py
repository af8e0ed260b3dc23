from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "integration_hub.finance"
    label = "finance"
