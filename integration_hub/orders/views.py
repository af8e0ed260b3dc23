from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from integration_hub.exchanges.models import Exchange
from integration_hub.orders import intake, services
from integration_hub.orders.filters import OrderFilter
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem


class OrderListView(PermissionRequiredMixin, ListView):
    permission_required = "orders.view_order"
    template_name = "orders/order_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = OrderFilter(self.request.GET, queryset=Order.objects.select_related("account"))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class OrderDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "orders.view_order"
    template_name = "orders/order_detail.html"
    queryset = Order.objects.select_related("account", "address")

    def get_context_data(self, **kwargs):
        order = self.object
        shipments = list(order.shipments.prefetch_related("lines__order_line"))
        order_work = Q(key=services.order_key(order.account, order.amazon_order_id),
                       kind__in=[WorkKind.IMPORT_ORDER, WorkKind.SEND_ORDER, WorkKind.CANCEL_ORDER])
        shipment_work = Q(kind=WorkKind.CONFIRM_SHIPMENT, key__in=[str(s.pk) for s in shipments])
        return super().get_context_data(
            lines=order.lines.all(),
            shipments=shipments,
            exchanges=Exchange.objects.filter(correlation_id=order.amazon_order_id)[:100],
            work_items=WorkItem.objects.filter(order_work | shipment_work),
            **kwargs,
        )


class OrderActionView(PermissionRequiredMixin, View):
    """POST-only ops actions on one order: hold (with a reason), release, re-fetch from Amazon."""

    permission_required = "orders.change_order"
    http_method_names = ["post"]
    action = None  # "hold", "release" or "refetch"

    def post(self, request, pk):
        order = get_object_or_404(Order.objects.select_related("account"), pk=pk)
        try:
            if self.action == "hold":
                message = services.hold(order, request.POST.get("reason", ""))
            else:
                message = {"release": services.release, "refetch": intake.refetch}[self.action](order)
        except ValidationError as exc:
            messages.error(request, f"{order}: {' '.join(exc.messages)}")
        else:
            messages.success(request, message)
        return redirect("orders:detail", pk=order.pk)
