from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in: login throttling (django-axes) and the second factor (django-otp)."""

    name = "integration_hub.accounts"
    label = "accounts"
