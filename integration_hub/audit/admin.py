from django.contrib import admin

from integration_hub.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only for everyone (admins see it; nobody edits or deletes it here)."""

    list_display = ["at", "username", "action", "object_repr", "detail", "source", "ip"]
    list_filter = ["action", "source", "content_type"]
    search_fields = ["username", "object_repr", "object_id", "detail"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
