from rest_framework import permissions, serializers, viewsets

from integration_hub.inventory import services
from integration_hub.inventory.filters import StockFilter
from integration_hub.inventory.models import StockLevel


class CanViewStock(permissions.BasePermission):
    """Rows are SKU links, but what they show is stock: the stock page's permission applies."""

    def has_permission(self, request, view):
        return request.user.has_perm("inventory.view_stocklevel")


class StockLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockLevel
        fields = "__all__"


class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock per item and warehouse as the back office last measured it."""

    queryset = StockLevel.objects.all()
    serializer_class = StockLevelSerializer
    filterset_fields = ["connection", "item_code", "warehouse"]


class StockRowSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    seller_sku = serializers.CharField()
    item_code = serializers.CharField()
    pack_multiplier = serializers.IntegerField()
    velocity_tier = serializers.CharField()
    handling_days = serializers.IntegerField(allow_null=True)
    available = serializers.IntegerField(allow_null=True)
    measured_at = serializers.DateTimeField(allow_null=True)
    pushed_quantity = serializers.IntegerField(allow_null=True)
    pushed_at = serializers.DateTimeField(allow_null=True)
    push_error = serializers.CharField(allow_null=True)


class StockViewSet(viewsets.ReadOnlyModelViewSet):
    """The stock page as data: per linked SKU, warehouse availability and the last push to Amazon."""

    serializer_class = StockRowSerializer
    filterset_class = StockFilter
    permission_classes = [CanViewStock]

    def get_queryset(self):
        return services.stock_rows()


def register(router):
    router.register("stock-levels", StockLevelViewSet, basename="stock-levels")
    router.register("stock", StockViewSet, basename="stock")
