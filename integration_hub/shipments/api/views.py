from rest_framework import serializers, viewsets

from integration_hub.shipments.filters import ShipmentFilter
from integration_hub.shipments.models import Shipment, ShipmentLine


class ShipmentLineSerializer(serializers.ModelSerializer):
    order_item_id = serializers.CharField(source="order_line.order_item_id", read_only=True)
    sku = serializers.CharField(source="order_line.sku", read_only=True)

    class Meta:
        model = ShipmentLine
        fields = ["order_item_id", "sku", "quantity"]


class ShipmentSerializer(serializers.ModelSerializer):
    amazon_order_id = serializers.CharField(source="order.amazon_order_id", read_only=True)
    ship_by = serializers.DateTimeField(source="order.latest_ship_date", read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = "__all__"


class ShipmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Dispatched packages and their confirmation on Amazon (retry a failed one from work items)."""

    queryset = Shipment.objects.select_related("order").prefetch_related("lines__order_line")
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter


def register(router):
    router.register("shipments", ShipmentViewSet, basename="shipments")
