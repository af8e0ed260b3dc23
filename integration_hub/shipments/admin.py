from django.contrib import admin

from integration_hub.shipments.models import Shipment, ShipmentLine, UnmatchedDispatch


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    raw_id_fields = ["order_line"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["order", "package_reference_id", "ship_method", "tracking_number", "shipped_at",
                    "confirmation_state"]
    list_filter = ["confirmation_state", "carrier"]
    search_fields = ["order__amazon_order_id", "tracking_number", "dispatch_ref"]
    raw_id_fields = ["order"]
    inlines = [ShipmentLineInline]


@admin.register(UnmatchedDispatch)
class UnmatchedDispatchAdmin(admin.ModelAdmin):
    list_display = ["amazon_order_id", "dispatch_ref", "reason", "connection", "received_at", "attempts"]
    list_filter = ["reason"]
    search_fields = ["amazon_order_id", "dispatch_ref"]
