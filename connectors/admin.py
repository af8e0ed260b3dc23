from django import forms
from django.contrib import admin, messages
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.debug import sensitive_variables

from connectors.base import ConnectorError
from connectors.models import BackOfficeConnection, CircuitState, SellerAccount
from connectors.registry import back_office_for
from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.core.debug import redact_text
from integration_hub.core.fields import mask

SECRET_HELP = "Stored encrypted and never shown again. Leave blank to keep the current value."


class SecretFieldsForm(forms.ModelForm):
    """Secrets are write-only: the form never renders a stored value, and a blank entry keeps it."""

    secret_fields = ()

    @method_decorator(sensitive_variables())
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A view-only user's form has no fields at all (Django drops them): nothing to replace.
        for name in (name for name in self.secret_fields if name in self.fields):
            current = mask(getattr(self.instance, name, "")) if self.instance.pk else ""
            self.fields[name] = forms.CharField(
                required=False, widget=forms.PasswordInput(render_value=False),
                label=self.fields[name].label,
                help_text=f"{SECRET_HELP} Current: {current or 'not set'}.",
            )

    @method_decorator(sensitive_variables())
    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if name in cleaned and not cleaned[name] and self.instance.pk:
                # Left blank: not in cleaned_data, so the instance keeps the value it was loaded with.
                del cleaned[name]
        return cleaned


class SecretAdminMixin:
    """Shows a secret to nobody: editors get the write-only form, view-only users a mask.

    Each name in `masked_for_viewers` needs a `<name>_masked` display (see `masked`).
    """

    masked_for_viewers = ()

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj):
            return fields
        return [f"{name}_masked" if name in self.masked_for_viewers else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.has_change_permission(request, obj):
            return fields
        return fields + tuple(f"{name}_masked" for name in self.masked_for_viewers)


def masked(name, label, how=mask):
    """A read-only admin field for a view-only user: the value as `how` shows it, never in clear."""

    @admin.display(description=label)
    def show(self, obj):
        return how(getattr(obj, name, "") or "") or "not set"

    return show


class AuditedConnectionAdmin(SecretAdminMixin, admin.ModelAdmin):
    """Connections whose every add, change and delete is in the audit trail (field names only: a
    replaced secret is named, never shown), with the trail on the connection's own page."""

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "actions_taken")

    @admin.display(description="Actions taken")
    def actions_taken(self, obj):
        if obj is None or obj.pk is None:
            return "none yet"
        events = audit.trail_for(obj, limit=20)
        if not events:
            return "none yet"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{} {}: {} {}</li>",
            ((f"{e.at:%Y-%m-%d %H:%M}", e.username, e.get_action_display(), e.detail) for e in events)))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        secrets = set(getattr(form, "secret_fields", ()))
        changed = [f"{name} (replaced)" if name in secrets else name for name in form.changed_data
                   if name not in secrets or form.cleaned_data.get(name)]
        if change:
            audit.record(request, Action.CONNECTION_CHANGE, obj, detail="changed: " + (", ".join(changed) or "nothing"))
        else:
            audit.record(request, Action.CONNECTION_ADD, obj, detail="added")

    def delete_model(self, request, obj):
        audit.record(request, Action.CONNECTION_DELETE, obj, detail="deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        audit.record_many(request, Action.CONNECTION_DELETE, list(queryset), detail="deleted")
        super().delete_queryset(request, queryset)


class SellerAccountForm(SecretFieldsForm):
    secret_fields = ("lwa_client_secret", "refresh_token")

    class Meta:
        model = SellerAccount
        exclude = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")


class BackOfficeConnectionForm(SecretFieldsForm):
    secret_fields = ("secret", "webhook_token", "webhook_signing_key")

    class Meta:
        model = BackOfficeConnection
        exclude = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        if redact_text(endpoint) != endpoint:
            # The endpoint column is not encrypted and is shown on pages: the password goes in Secret.
            raise forms.ValidationError("Leave the password out of the URL and enter it under Secret.")
        return endpoint


@admin.register(SellerAccount)
class SellerAccountAdmin(AuditedConnectionAdmin):
    form = SellerAccountForm
    list_display = ("name", "region", "seller_id", "back_office", "active", "last_success_at", "consecutive_failures")
    list_filter = ("region", "active")
    search_fields = ("name", "seller_id")
    readonly_fields = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")
    masked_for_viewers = ("lwa_client_secret", "refresh_token")
    lwa_client_secret_masked = masked("lwa_client_secret", "LWA client secret")
    refresh_token_masked = masked("refresh_token", "Refresh token")


@admin.register(BackOfficeConnection)
class BackOfficeConnectionAdmin(AuditedConnectionAdmin):
    form = BackOfficeConnectionForm
    list_display = ("name", "kind", "endpoint_host", "active", "last_success_at", "consecutive_failures")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    readonly_fields = ("last_success_at", "last_error_at", "last_error", "consecutive_failures")
    actions = ["test_connection"]
    masked_for_viewers = ("endpoint", "secret", "webhook_token", "webhook_signing_key")
    endpoint_masked = masked("endpoint", "Endpoint", how=redact_text)
    secret_masked = masked("secret", "Secret")
    webhook_token_masked = masked("webhook_token", "Webhook token")
    webhook_signing_key_masked = masked("webhook_signing_key", "Webhook signing key")

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
