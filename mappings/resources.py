"""Import/export definitions for every mapping table: used by the admin, the API-free CLI commands
(`export_mappings`, `import_mappings`) and `seed_demo`. Rows are matched on their natural key, so
a file exported from one hub imports cleanly into another."""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from connectors.models import SellerAccount
from integration_hub.core.spreadsheet import safe_cell, unquote_cell
from mappings import models


class MappingResource(resources.ModelResource):
    """Validates each row like a form would, and refuses a file that repeats a key. Text that a
    spreadsheet would run as a formula is exported quoted, and the quote is taken off on import."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._seen_keys = {}

    def export_field(self, field, instance, **kwargs):
        return safe_cell(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        for name, value in list(row.items()):
            row[name] = unquote_cell(value)
        key = tuple(str(row.get(name, "")).strip() for name in self._meta.import_id_fields)
        number = kwargs.get("row_number")
        if key in self._seen_keys:
            raise ValidationError(
                f"duplicate of row {self._seen_keys[key]}: {', '.join(self._meta.import_id_fields)} = {', '.join(key)}"
            )
        self._seen_keys[key] = number

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False
        exclude = ("id",)


class AccountWidget(widgets.ForeignKeyWidget):
    """Seller accounts are named, not numbered, in files."""

    def __init__(self):
        super().__init__(SellerAccount, field="name")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except SellerAccount.DoesNotExist:
            raise ValueError(f"no seller account named {value!r}") from None


class CarrierMapResource(MappingResource):
    class Meta(MappingResource.Meta):
        model = models.CarrierMap
        import_id_fields = ("warehouse_ship_method",)
        fields = ("warehouse_ship_method", "carrier_code", "carrier_name", "shipping_method", "active")


class ShipLevelMapResource(MappingResource):
    class Meta(MappingResource.Meta):
        model = models.ShipLevelMap
        import_id_fields = ("ship_service_level", "marketplace_id", "is_prime")
        fields = ("ship_service_level", "marketplace_id", "is_prime", "warehouse_ship_method")


class SkuLinkResource(MappingResource):
    account = fields.Field(attribute="account", column_name="account", widget=AccountWidget())

    class Meta(MappingResource.Meta):
        model = models.SkuLink
        import_id_fields = ("account", "seller_sku")
        fields = ("account", "seller_sku", "item_code", "pack_multiplier", "velocity_tier", "handling_days", "active")


class StockBufferResource(MappingResource):
    account = fields.Field(attribute="account", column_name="account", widget=AccountWidget())

    class Meta(MappingResource.Meta):
        model = models.StockBuffer
        import_id_fields = ("account", "seller_sku", "velocity_tier")
        fields = ("account", "seller_sku", "velocity_tier", "fixed_units", "percent")


class GlAccountMapResource(MappingResource):
    class Meta(MappingResource.Meta):
        model = models.GlAccountMap
        import_id_fields = ("transaction_type", "amount_type", "amount_description")
        fields = ("transaction_type", "amount_type", "amount_description", "gl_account", "description")


class OrderStatusMapResource(MappingResource):
    class Meta(MappingResource.Meta):
        model = models.OrderStatusMap
        import_id_fields = ("back_office_kind", "back_office_status")
        fields = ("back_office_kind", "back_office_status", "hub_status")


class CustomFieldMapResource(MappingResource):
    class Meta(MappingResource.Meta):
        model = models.CustomFieldMap
        import_id_fields = ("back_office_kind", "back_office_field")
        fields = ("back_office_kind", "amazon_field", "back_office_field")


# The KIND names used by `export_mappings` / `import_mappings`.
RESOURCES = {
    "carriers": CarrierMapResource,
    "ship-levels": ShipLevelMapResource,
    "sku-links": SkuLinkResource,
    "stock-buffers": StockBufferResource,
    "gl-accounts": GlAccountMapResource,
    "order-statuses": OrderStatusMapResource,
    "custom-fields": CustomFieldMapResource,
}


def describe_errors(result):
    """Every row error of an import result as 'line N: message' (line 1 is the header)."""
    lines = [f"file: {error.error}" for error in result.base_errors]
    for number, errors in result.row_errors():
        lines += [f"line {number + 1}: {error.error}" for error in errors]
    for row in result.invalid_rows:
        for field, messages in row.error_dict.items():
            where = "" if field == "__all__" else f"{field}: "
            lines += [f"line {row.number + 1}: {where}{message}" for message in messages]
    return sorted(lines, key=lambda text: (not text.startswith("file"), _line_number(text)))


def _line_number(text):
    try:
        return int(text.split(":", 1)[0].removeprefix("line "))
    except ValueError:
        return 0
