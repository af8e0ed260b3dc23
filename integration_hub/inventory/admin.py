from django.contrib import admin

from integration_hub.inventory.models import StockCheck, StockFeed, StockLevel, StockPush


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ["item_code", "warehouse", "connection", "on_hand", "allocated", "available", "measured_at"]
    list_filter = ["connection", "warehouse"]
    search_fields = ["item_code"]


@admin.register(StockPush)
class StockPushAdmin(admin.ModelAdmin):
    list_display = ["sku", "account", "quantity", "handling_days", "pushed_at", "feed_id", "last_error"]
    list_filter = ["account"]
    search_fields = ["sku"]


@admin.register(StockFeed)
class StockFeedAdmin(admin.ModelAdmin):
    list_display = ["feed_id", "account", "sku_count", "status", "done", "accepted", "errors", "submitted_at"]
    list_filter = ["done", "status"]


@admin.register(StockCheck)
class StockCheckAdmin(admin.ModelAdmin):
    list_display = ["report_id", "account", "status", "done", "skus_checked", "drifted", "requested_at", "note"]
    list_filter = ["done", "account"]
