from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, ListView

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.exchanges.models import Exchange
from integration_hub.orders import intake, services, timeline
from integration_hub.orders.choices import HubState
from integration_hub.orders.filters import OrderFilter
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem

ORDER_ACTIONS = {"hold": Action.ORDER_HOLD, "release": Action.ORDER_RELEASE, "refetch": Action.ORDER_REFETCH}


class OrderListView(PermissionRequiredMixin, ListView):
    permission_required = "orders.view_order"
    template_name = "orders/order_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = OrderFilter(self.request.GET, queryset=Order.objects.select_related("account"))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset,
                                        can_act=self.request.user.has_perm("orders.change_order"), **kwargs)


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
            work_items=(work_items := list(WorkItem.objects.filter(order_work | shipment_work))),
            trail=audit.trail_for(order, *work_items),
            **kwargs,
        )


class OrderTimelineView(PermissionRequiredMixin, DetailView):
    """One order across Amazon, the hub and the back office, in time order, with the calls behind it."""

    permission_required = "orders.view_order"
    template_name = "orders/order_timeline.html"
    queryset = Order.objects.select_related("account")

    def get_context_data(self, **kwargs):
        return super().get_context_data(entries=timeline.timeline(self.object), **kwargs)


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
            audit.record(request, ORDER_ACTIONS[self.action], order, detail=message)
            messages.success(request, message)
        return redirect("orders:detail", pk=order.pk)


class OrderBulkActionView(PermissionRequiredMixin, View):
    """Release or re-fetch the orders ticked on the list (field `orders`), at most BULK_LIMIT at once."""

    permission_required = "orders.change_order"
    http_method_names = ["post"]

    def post(self, request):
        action = request.POST.get("action")
        if action not in ("release", "refetch"):
            messages.error(request, "Choose release or re-fetch.")
            return redirect("orders:list")
        pks = [int(v) for v in request.POST.getlist("orders") if v.isdigit()]
        if len(pks) > BULK_LIMIT:
            messages.error(request, f"At most {BULK_LIMIT} orders at once; {len(pks)} were ticked. Nothing was done.")
            return redirect(_back(request))
        orders = Order.objects.filter(pk__in=pks).select_related("account").order_by(
            F("latest_ship_date").asc(nulls_last=True))
        done, refused = [], []
        for order in orders:
            try:
                if action == "release":
                    services.release(order)
                else:
                    intake.refetch(order)
            except ValidationError as exc:
                refused.append(f"{order}: {' '.join(exc.messages)}")
            else:
                done.append(order)
        audit.record_many(request, ORDER_ACTIONS[action], done, detail=f"bulk {action} of {len(done)} orders")
        if action == "release":
            still_held = Order.objects.filter(pk__in=[o.pk for o in done], hub_state=HubState.HELD).count()
            messages.success(request, f"Released {len(done) - still_held} order(s)"
                             + (f"; {still_held} still held (see their reasons)." if still_held else "."))
        else:
            messages.success(request, f"Queued a re-fetch from Amazon of {len(done)} order(s).")
        if refused:
            messages.error(request, "Not done: " + "; ".join(refused[:5]) + ("…" if len(refused) > 5 else ""))
        return redirect(_back(request))


BULK_LIMIT = 500


def _back(request):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "orders:list"  # never send a user off-site from a form field
    return back
