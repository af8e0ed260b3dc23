from django import forms
from django.contrib import admin, messages

from connectors.base import ConnectorError
from connectors.models import BackOfficeConnection, CircuitState, SellerAccount
from connectors.registry import back_office_for
from integration_hub.core.fields import mask

SECRET_HELP = "Stored encrypted and never shown again. Leave blank to keep the current value."


class SecretFieldsForm(forms.ModelForm):
    """Secrets are write-only: the form never renders a stored value, and a blank entry keeps it."""

    secret_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            current = getattr(self.instance, name, "") if self.instance.pk else ""
            self.fields[name] = forms.CharField(
                required=False, widget=forms.PasswordInput(render_value=False),
                label=self.fields[name].label,
                help_text=f"{SECRET_HELP} Current: {mask(current) or 'not set'}.",
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(type(self.instance).objects.get(pk=self.instance.pk), name)
        return cleaned


class SellerAccountForm(SecretFieldsForm):
    secret_fields = ("lwa_client_secret", "refresh_token")

    class Meta:
        model = SellerAccount
        exclude = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")


class BackOfficeConnectionForm(SecretFieldsForm):
    secret_fields = ("secret",)

    class Meta:
        model = BackOfficeConnection
        exclude = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")


@admin.register(SellerAccount)
class SellerAccountAdmin(admin.ModelAdmin):
    form = SellerAccountForm
    list_display = ("name", "region", "seller_id", "back_office", "active", "last_success_at", "consecutive_failures")
    list_filter = ("region", "active")
    search_fields = ("name", "seller_id")
    readonly_fields = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")


@admin.register(BackOfficeConnection)
class BackOfficeConnectionAdmin(admin.ModelAdmin):
    form = BackOfficeConnectionForm
    list_display = ("name", "kind", "endpoint_host", "active", "last_success_at", "consecutive_failures")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    readonly_fields = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")
    actions = ["test_connection"]

    @admin.display(description="Endpoint")
    def endpoint_host(self, obj):
        # A database URL may carry a password: show only what follows the last '@'.
        return obj.endpoint.rsplit("@", 1)[-1]

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for connection in queryset:
            try:
                detail = back_office_for(connection).test_connection()
            except (ConnectorError, OSError, ImportError) as exc:
                connection.record_failure(exc)
                self.message_user(request, f"{connection}: failed: {exc}", messages.ERROR)
            else:
                connection.record_success()
                self.message_user(request, f"{connection}: OK: {detail}", messages.SUCCESS)


@admin.register(CircuitState)
class CircuitStateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "state", "consecutive_failures", "opened_at", "updated_at")
    list_filter = ("state", "api")

    def has_add_permission(self, request):
        return False
