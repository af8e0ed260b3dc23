from datetime import timedelta

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Count, F, Min, OuterRef, Subquery
from django.utils import timezone
from django.views.generic import TemplateView

from connectors.models import BackOfficeConnection, CircuitState, SellerAccount
from integration_hub.alerts.choices import RuleKind
from integration_hub.alerts.models import Alert
from integration_hub.dashboard import amazon_health, forecast, health, quota, stock_lag
from integration_hub.dashboard.models import HealthForecast
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.intake import intake_lag
from integration_hub.orders.models import Order
from integration_hub.shipments.models import Shipment, UnmatchedDispatch
from integration_hub.shipments.recording import INCOMPLETE
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
        open_alerts = Alert.objects.open().order_by("severity", "opened_at")
        return super().get_context_data(
            now=now,
            open_alerts=open_alerts[:10],
            open_alert_count=open_alerts.count(),
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
            # Accounts whose back office is switched off are not measured (inventory.jobs.refresh_tier).
            stock_lag=stock_lag.rows(SellerAccount.objects.filter(active=True, back_office__active=True), now),
            connections=BackOfficeConnection.objects.filter(active=True),
            schedules=Schedule.objects.all(),
            # From the open "health target" alerts the rules evaluate every minute: the 30-day aggregates
            # behind them take a second at 100,000 orders, too slow for every page view (bench_pages).
            forecast=forecast_lines(),
            refresh_ms=refresh_ms(self.request),
            health_misses=sorted({(alert.account.name if alert.account else "", alert.key.split(":")[2])
                                  for alert in open_alerts.filter(rule__kind=RuleKind.HEALTH_TARGET)
                                  .select_related("account")}),
            **kwargs,
        )


def refresh_ms(request, default=60):
    """How often the page's live parts are fetched again: ?refresh=<seconds> (2 to 3600), else a minute."""
    try:
        seconds = min(3600, max(2, int(request.GET.get("refresh", default))))
    except ValueError:
        seconds = default
    return seconds * 1000


def forecast_lines():
    """(at risk?, sentence) of every active account's forecast, the risky ones first, and when it was made."""
    rows = HealthForecast.objects.filter(account__active=True).select_related("account")
    lines = sorted(((risky, text) for row in rows for _, risky, text in forecast.sentences(row)),
                   key=lambda line: not line[0])
    return {"lines": lines, "computed_at": max((row.computed_at for row in rows), default=None)}


class HealthView(TemplateView):
    """Late Shipment, Valid Tracking and cancellation rates per account and marketplace, from the hub's
    own records, with Amazon's definitions and a daily trend of the Late Shipment Rate."""

    template_name = "dashboard/health.html"
    CHART_DAYS = 30

    def get_context_data(self, **kwargs):
        now = timezone.now()
        accounts = SellerAccount.objects.filter(active=True)
        rows = health.account_health(now, accounts)
        days = [(now - timedelta(days=n)).date() for n in range(self.CHART_DAYS, 0, -1)]
        for row in rows:
            row.chart = chart_bars(row.trend, days)
        latency = health.confirmation_latency_by_day(now, [account.pk for account in accounts])
        today_back = [(now - timedelta(days=n)).date() for n in range(self.CHART_DAYS - 1, -1, -1)]
        latency_charts = [{"account": account, "chart": latency_bars(latency[account.pk], today_back)}
                          for account in accounts if account.pk in latency]
        computed = {}
        amazon = [{"report": report, "marketplace": health.MARKETPLACES.get(marketplace, marketplace),
                   "status": figures.get("status", ""),
                   "rows": amazon_health.comparison(report, marketplace, computed)}
                  for report in amazon_health.latest(accounts).values()
                  for marketplace, figures in sorted(report.marketplaces.items())]
        return super().get_context_data(now=now, rows=rows, amazon=amazon, latency_charts=latency_charts,
                                        definitions=health.DEFINITIONS.values(), **kwargs)


def latency_bars(series, days, height=60, width=8):
    """Bars for a server-rendered SVG of dispatch-to-confirmation latency: per day a light bar to the p95
    and a dark one to the p50, on a scale from 0 to the month's largest p95 (in minutes)."""
    by_day = {day: (p50, p95, packages) for day, p50, p95, packages in series}
    top = max((p95 for _, p95, _ in by_day.values()), default=0.0) or 60.0
    bars = []
    for n, day in enumerate(days):
        p50, p95, packages = by_day.get(day, (None, None, 0))
        high = 0 if p95 is None else max(1, round(p95 / top * height))
        low = 0 if p50 is None else max(1, round(p50 / top * height))
        bars.append({"x": n * (width + 2), "p95_y": height - high, "p95_h": high, "p50_y": height - low,
                     "p50_h": low, "day": day, "packages": packages,
                     "p50_min": None if p50 is None else p50 / 60, "p95_min": None if p95 is None else p95 / 60})
    return {"bars": bars, "height": height, "width": len(days) * (width + 2), "bar": width, "top_min": top / 60}


def chart_bars(trend, days, height=60, width=8, target=health.LSR_TARGET, top=20.0):
    """Bars for a server-rendered SVG: one per day, the Late Shipment Rate scaled to `top` percent."""
    by_day = dict(trend)
    bars = []
    for n, day in enumerate(days):
        rate = by_day.get(day)
        percent = rate.percent if rate else None
        bar = 0 if percent is None else max(1, round(min(percent, top) / top * height))
        bars.append({"x": n * (width + 2), "y": height - bar, "h": bar, "day": day, "rate": rate,
                     "late": bool(rate and rate.breached)})
    return {"bars": bars, "height": height, "width": len(days) * (width + 2), "bar": width,
            "target_y": height - round(target / top * height)}


class QuotaView(PermissionRequiredMixin, TemplateView):
    """Amazon quota budget per account and operation: plan in force, use and 429s in the last hour, backlog."""

    permission_required = "exchanges.view_exchange"
    template_name = "dashboard/quota.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        return super().get_context_data(now=now, budgets=quota.budgets(SellerAccount.objects.filter(active=True),
                                                                          now), **kwargs)
