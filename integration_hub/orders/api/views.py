from django.core.exceptions import ValidationError
from rest_framework import decorators, permissions, response, serializers, status, viewsets

from integration_hub.orders import intake, services
from integration_hub.orders.filters import OrderFilter
from integration_hub.orders.models import Address, Order, OrderLine


class CanChangeOrders(permissions.BasePermission):
    """The order actions are for ops (orders.change_order), as on the pages."""

    def has_permission(self, request, view):
        return request.user.has_perm("orders.change_order")


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        exclude = ["order"]


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        exclude = ["id", "order"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    address = AddressSerializer(read_only=True)

    class Meta:
        model = Order
        fields = "__all__"


class HoldSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    """Amazon orders; POST hold/ (reason), release/ and refetch/ are the ops actions of the order page."""

    queryset = Order.objects.select_related("account", "address").prefetch_related("lines")
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def _act(self, action, *args):
        order = self.get_object()
        try:
            message = action(order, *args)
        except ValidationError as exc:
            return response.Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        order.refresh_from_db()
        return response.Response({"detail": message, "order": OrderSerializer(order).data},
                                 status=status.HTTP_202_ACCEPTED)

    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders],
                       serializer_class=HoldSerializer)
    def hold(self, request, pk=None):
        body = HoldSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.hold, body.validated_data["reason"])

    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders])
    def release(self, request, pk=None):
        return self._act(services.release)

    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders])
    def refetch(self, request, pk=None):
        return self._act(intake.refetch)


def register(router):
    router.register("orders", OrderViewSet, basename="orders")
