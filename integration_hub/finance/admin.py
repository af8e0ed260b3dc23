from django.contrib import admin

from integration_hub.finance.models import Journal, JournalLine, ReconciliationLine, Settlement, UnmappedCombination


class ReadOnlyAdmin(admin.ModelAdmin):
    """Settlements and journals come from Amazon's reports, never from typing: the admin only shows them."""

    list_per_page = 100

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UnmappedInline(ReadOnlyInline):
    model = UnmappedCombination


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("settlement_id", "account", "start_date", "end_date", "total_amount", "currency", "line_count")
    list_filter = ("account", "currency")
    search_fields = ("settlement_id",)
    inlines = [UnmappedInline]
    actions = None  # no bulk delete: a posted settlement's journals must not vanish with it

    def has_delete_permission(self, request, obj=None):
        """A wrong import may be deleted and imported again, as long as nothing of it was posted."""
        return super().has_delete_permission(request, obj) and (obj is None or not obj.is_posted)


class JournalLineInline(ReadOnlyInline):
    model = JournalLine


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = ("settlement", "period", "date", "state", "posted_ref", "posted_at")
    list_filter = ("state",)
    search_fields = ("settlement__settlement_id", "posted_ref")
    inlines = [JournalLineInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationLine)
class ReconciliationLineAdmin(ReadOnlyAdmin):
    list_display = ("settlement", "category", "order_id", "sku", "settled_amount", "order_amount", "note")
    list_filter = ("category",)
    search_fields = ("order_id", "sku", "settlement__settlement_id")

    def has_delete_permission(self, request, obj=None):
        return False
