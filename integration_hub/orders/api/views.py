from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import decorators, permissions, response, serializers, status, viewsets

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
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

    def get_fields(self):
        """The buyer's name, e-mail and address only for roles with orders.view_buyer_data."""
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not request.user.has_perm("orders.view_buyer_data"):
            for name in ("buyer_name", "buyer_email", "address"):
                fields.pop(name, None)
        return fields


class HoldSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    """Amazon orders; POST hold/ (reason), release/ and refetch/ are the ops actions of the order page."""

    queryset = Order.objects.select_related("account", "address").prefetch_related("lines")
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def _act(self, audit_action, action, *args):
        order = self.get_object()
        try:
            message = action(order, *args)
        except ValidationError as exc:
            return response.Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        audit.record(self.request, audit_action, order, detail=message)
        order.refresh_from_db()
        return response.Response({"detail": message,
                                  "order": OrderSerializer(order, context=self.get_serializer_context()).data},
                                 status=status.HTTP_202_ACCEPTED)

    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders],
                       serializer_class=HoldSerializer)
    def hold(self, request, pk=None, format=None):  # noqa: A002 - DRF passes the format suffix by this name
        body = HoldSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(Action.ORDER_HOLD, services.hold, body.validated_data["reason"])

    @extend_schema(request=None)
    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders])
    def release(self, request, pk=None, format=None):  # noqa: A002 - DRF passes the format suffix by this name
        return self._act(Action.ORDER_RELEASE, services.release)

    @extend_schema(request=None)
    @decorators.action(detail=True, methods=["post"], permission_classes=[CanChangeOrders])
    def refetch(self, request, pk=None, format=None):  # noqa: A002 - DRF passes the format suffix by this name
        return self._act(Action.ORDER_REFETCH, intake.refetch)


def register(router):
    router.register("orders", OrderViewSet, basename="orders")
