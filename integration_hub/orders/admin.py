"""Orders in the admin are a read-only record for every role: state, back-office reference and the
address change only through the order page's actions (hold, release, re-fetch), which keep the
rules; the buyer's name, e-mail and address are shown only to roles with orders.view_buyer_data."""

from django.contrib import admin

from integration_hub.orders.models import Address, Order, OrderLine

BUYER_FIELDS = ["buyer_name", "buyer_email"]


class ReadOnlyInline:
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline, admin.TabularInline):
    model = OrderLine


class AddressInline(ReadOnlyInline, admin.StackedInline):
    model = Address


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["amazon_order_id", "account", "status", "hub_state", "latest_ship_date", "back_office_ref"]
    list_filter = ["hub_state", "status", "account", "fulfillment_channel"]
    search_fields = ["amazon_order_id", "back_office_ref", "lines__sku"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # viewing needs orders.view_order (or change_order); nothing is edited here

    def has_delete_permission(self, request, obj=None):
        return False

    def get_exclude(self, request, obj=None):
        return [] if request.user.has_perm("orders.view_buyer_data") else BUYER_FIELDS

    def get_inlines(self, request, obj):
        if request.user.has_perm("orders.view_buyer_data"):
            return [AddressInline, OrderLineInline]
        return [OrderLineInline]
