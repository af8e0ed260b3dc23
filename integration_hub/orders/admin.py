from django.contrib import admin

from integration_hub.orders.models import Address, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["amazon_order_id", "account", "status", "hub_state", "latest_ship_date", "back_office_ref"]
    list_filter = ["hub_state", "status", "account", "fulfillment_channel"]
    search_fields = ["amazon_order_id", "back_office_ref", "lines__sku"]
    readonly_fields = ["pii_erased_at", "created_at", "updated_at"]
    inlines = [AddressInline, OrderLineInline]
