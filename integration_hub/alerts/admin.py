from django.contrib import admin

from connectors.admin import SecretAdminMixin, SecretFieldsForm, masked
from integration_hub.alerts.models import Alert, AlertRule


class AlertRuleForm(SecretFieldsForm):
    secret_fields = ("chat_webhook_url",)  # a Slack-style webhook URL is itself the credential

    class Meta:
        model = AlertRule
        fields = "__all__"


@admin.register(AlertRule)
class AlertRuleAdmin(SecretAdminMixin, admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["name", "kind", "threshold", "account", "severity", "delivers_to", "active"]
    list_filter = ["kind", "severity", "active"]
    search_fields = ["name", "email_to"]
    masked_for_viewers = ("chat_webhook_url",)
    chat_webhook_url_masked = masked("chat_webhook_url", "Chat webhook URL")

    @admin.display(description="Delivers to")
    def delivers_to(self, rule):
        return ", ".join(rule.channels()) or "(kept, not sent)"


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Incidents are opened and resolved by the rules; the admin only reads them."""

    list_display = ["summary", "severity", "account", "opened_at", "resolved_at"]
    list_filter = ["severity", "rule"]
    search_fields = ["summary", "key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
