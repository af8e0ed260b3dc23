from datetime import timedelta

from django.db.models import Count, F, Min, OuterRef, Subquery
from django.utils import timezone
from django.views.generic import TemplateView

from connectors.models import BackOfficeConnection, CircuitState, SellerAccount
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.intake import intake_lag
from integration_hub.orders.models import Order
from integration_hub.shipments.models import Shipment, UnmatchedDispatch
from integration_hub.shipments.services import INCOMPLETE
from integration_hub.sync.choices import WorkState
from integration_hub.sync.models import Schedule, WorkItem

# Shipments whose ship-by falls within this many hours are shown as at risk.
AT_RISK_HOURS = 4


def incomplete_dispatches():
    """Dispatches read before their tracking number or packages existed, most urgent ship-by first."""
    order = Order.objects.filter(amazon_order_id=OuterRef("amazon_order_id"),
                                 account__back_office=OuterRef("connection"))
    return UnmatchedDispatch.objects.filter(reason__in=INCOMPLETE).select_related("connection").annotate(
        ship_by=Subquery(order.values("latest_ship_date")[:1]), order_pk=Subquery(order.values("pk")[:1]),
    ).order_by(F("ship_by").asc(nulls_last=True))


class DashboardView(TemplateView):
    """What threatens account health now. Reads the database only (never Redis)."""

    template_name = "dashboard/home.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        unconfirmed = Shipment.objects.unconfirmed().select_related("order")
        held = Order.objects.held()
        dead = WorkItem.objects.dead()
        return super().get_context_data(
            now=now,
            at_risk_cutoff=now + timedelta(hours=AT_RISK_HOURS),
            unconfirmed=unconfirmed[:50],
            unconfirmed_count=unconfirmed.count(),
            overdue_count=unconfirmed.due_before(now).count(),
            at_risk_count=Shipment.objects.at_risk(now, hours=AT_RISK_HOURS).count(),
            late_to_dispatch_count=Order.objects.late_to_dispatch(now).count(),
            lost=Order.objects.lost_in_back_office().order_by("latest_ship_date")[:20],
            lost_count=Order.objects.lost_in_back_office().count(),
            unrecorded=Order.objects.dispatched_unrecorded().order_by("latest_ship_date")[:20],
            incomplete=incomplete_dispatches()[:20],
            held_count=held.count(),
            held_oldest_ship_by=held.aggregate(first=Min("latest_ship_date"))["first"],
            dead_count=dead.count(),
            dead_by_kind=dead.values("kind").annotate(n=Count("pk")).order_by("kind"),
            retrying_count=WorkItem.objects.filter(state=WorkState.RETRYING).count(),
            cancel_attention=(Order.objects.cancel_refused() | Order.objects.buyer_asked_to_cancel())
            .order_by("latest_ship_date")[:20],
            latency=Exchange.objects.since(now - timedelta(hours=1)).latency_by_operation(),
            circuits=CircuitState.objects.exclude(state=CircuitState.State.CLOSED).select_related(
                "account", "connection"),
            accounts=[(account, intake_lag(account, now)) for account in SellerAccount.objects.filter(active=True)],
            connections=BackOfficeConnection.objects.filter(active=True),
            schedules=Schedule.objects.all(),
            **kwargs,
        )
