from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Case, F, Value, When
from django.views.generic import DetailView, ListView

from integration_hub.exchanges.models import Exchange
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.filters import ShipmentFilter
from integration_hub.shipments.models import Shipment, UnmatchedDispatch
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem


class ShipmentListView(PermissionRequiredMixin, ListView):
    permission_required = "shipments.view_shipment"
    template_name = "shipments/shipment_list.html"
    paginate_by = 100

    def get_queryset(self):
        # Unconfirmed packages first, most urgent ship-by first.
        confirmed_last = Case(When(confirmation_state=ConfirmationState.CONFIRMED, then=Value(1)), default=Value(0))
        unconfirmed_first = Shipment.objects.select_related("order", "order__account").alias(
            confirmed=confirmed_last).order_by("confirmed", F("order__latest_ship_date").asc(nulls_last=True),
                                               "-shipped_at")
        self.filterset = ShipmentFilter(self.request.GET, queryset=unconfirmed_first)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        unmatched = UnmatchedDispatch.objects.select_related("connection")[:50]  # the table names the back office
        return super().get_context_data(filter=self.filterset, unmatched=unmatched, **kwargs)


class ShipmentDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "shipments.view_shipment"
    template_name = "shipments/shipment_detail.html"
    queryset = Shipment.objects.select_related("order", "order__account")

    def get_context_data(self, **kwargs):
        shipment = self.object
        return super().get_context_data(
            lines=shipment.lines.select_related("order_line"),
            exchanges=Exchange.objects.filter(correlation_id=shipment.order.amazon_order_id)[:100],
            work_items=WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk)),
            **kwargs,
        )
