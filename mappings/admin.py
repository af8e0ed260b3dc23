from django import forms
from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from mappings import models, resources
from mappings.carrier_codes import CARRIER_CODE_CHOICES


class MappingAdmin(SimpleHistoryAdmin, ImportExportModelAdmin):
    """Admin for a mapping table: search, filters, CSV/XLSX import with preview, and change history."""

    list_per_page = 100


class CarrierMapForm(forms.ModelForm):
    carrier_code = forms.ChoiceField(choices=[("", "---------")] + CARRIER_CODE_CHOICES,
                                     help_text="Amazon carrierCode from Seller Central's list; Other needs a name.")

    class Meta:
        model = models.CarrierMap
        fields = "__all__"


@admin.register(models.CarrierMap)
class CarrierMapAdmin(MappingAdmin):
    form = CarrierMapForm
    resource_classes = [resources.CarrierMapResource]
    list_display = ("warehouse_ship_method", "carrier_code", "carrier_name", "shipping_method", "active")
    list_filter = ("carrier_code", "active")
    search_fields = ("warehouse_ship_method", "carrier_code", "carrier_name", "shipping_method")


@admin.register(models.ShipLevelMap)
class ShipLevelMapAdmin(MappingAdmin):
    resource_classes = [resources.ShipLevelMapResource]
    list_display = ("ship_service_level", "marketplace_id", "is_prime", "warehouse_ship_method")
    list_filter = ("marketplace_id", "is_prime")
    search_fields = ("ship_service_level", "warehouse_ship_method")


@admin.register(models.SkuLink)
class SkuLinkAdmin(MappingAdmin):
    resource_classes = [resources.SkuLinkResource]
    list_display = ("seller_sku", "item_code", "account", "pack_multiplier", "velocity_tier", "handling_days", "active")
    list_filter = ("account", "velocity_tier", "active")
    search_fields = ("seller_sku", "item_code")


@admin.register(models.StockBuffer)
class StockBufferAdmin(MappingAdmin):
    resource_classes = [resources.StockBufferResource]
    list_display = ("__str__", "account", "seller_sku", "velocity_tier", "fixed_units", "percent")
    list_filter = ("account", "velocity_tier")
    search_fields = ("seller_sku",)


@admin.register(models.GlAccountMap)
class GlAccountMapAdmin(MappingAdmin):
    resource_classes = [resources.GlAccountMapResource]
    list_display = ("transaction_type", "amount_type", "amount_description", "gl_account", "description")
    list_filter = ("transaction_type", "gl_account")
    search_fields = ("transaction_type", "amount_type", "amount_description", "gl_account", "description")


@admin.register(models.OrderStatusMap)
class OrderStatusMapAdmin(MappingAdmin):
    resource_classes = [resources.OrderStatusMapResource]
    list_display = ("back_office_kind", "back_office_status", "hub_status")
    list_filter = ("back_office_kind", "hub_status")
    search_fields = ("back_office_status",)


@admin.register(models.CustomFieldMap)
class CustomFieldMapAdmin(MappingAdmin):
    resource_classes = [resources.CustomFieldMapResource]
    list_display = ("back_office_kind", "amazon_field", "back_office_field")
    list_filter = ("back_office_kind",)
    search_fields = ("amazon_field", "back_office_field")
