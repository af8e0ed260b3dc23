from rest_framework import viewsets

from mappings import models
from mappings.api.serializers import SERIALIZERS

# model -> (URL prefix, filter fields)
ENDPOINTS = {
    models.CarrierMap: ("carrier-maps", ["carrier_code", "active"]),
    models.ShipLevelMap: ("ship-level-maps", ["marketplace_id", "is_prime"]),
    models.SkuLink: ("sku-links", ["account", "velocity_tier", "active", "seller_sku", "item_code"]),
    models.StockBuffer: ("stock-buffers", ["account", "velocity_tier", "seller_sku"]),
    models.GlAccountMap: ("gl-account-maps", ["transaction_type", "gl_account"]),
    models.OrderStatusMap: ("order-status-maps", ["back_office_kind", "hub_status"]),
    models.CustomFieldMap: ("custom-field-maps", ["back_office_kind"]),
}


def viewset_for(model, filter_fields):
    return type(f"{model.__name__}ViewSet", (viewsets.ModelViewSet,), {
        "__doc__": f"{model._meta.verbose_name_plural.capitalize()} (mapping table).",
        "queryset": model.objects.all(),
        "serializer_class": SERIALIZERS[model],
        "filterset_fields": filter_fields,
    })


def register(router):
    for model, (prefix, filter_fields) in ENDPOINTS.items():
        router.register(f"mappings/{prefix}", viewset_for(model, filter_fields), basename=prefix)
