from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "integration_hub.dashboard"
    label = "dashboard"
