"""For the rest of the stack: `/healthz` for load balancers and `/metrics` for Prometheus.

Every figure is read from Postgres (and queue depths from Redis) when it is scraped, so the numbers
are the same whichever web process answers and count the work of every worker and the scheduler;
nothing is kept in process memory.
"""

import datetime as dt
import hmac

import django_rq
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from rq import Worker

from connectors.models import SellerAccount
from integration_hub.core.clientip import client_ip
from integration_hub.dashboard import health
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.intake import intake_lag
from integration_hub.shipments.models import Shipment
from integration_hub.sync.choices import LANES
from integration_hub.sync.models import Schedule, WorkItem

URGENCY_HOURS = (0, 4, 24)  # unconfirmed packages: past ship-by, due within 4 h, within 24 h, later
LATENCY_BUCKETS = (60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)  # dispatch -> confirmed, seconds
SCHEDULER_GRACE = dt.timedelta(minutes=2)


# ---- /healthz --------------------------------------------------------------------------------


def checks(now=None):
    """(healthy, {check: detail}) for the database, Redis, a worker on every lane and the scheduler."""
    now = now or timezone.now()
    result, healthy = {}, True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure
        result["database"], healthy = f"failed: {type(exc).__name__}", False
    try:
        redis = django_rq.get_connection("default")
        redis.ping()
        result["redis"] = "ok"
        serving = {lane: 0 for lane in LANES}
        for worker in Worker.all(connection=redis):
            for name in worker.queue_names():
                if name in serving:
                    serving[name] += 1
        result["workers"] = serving
        idle = [lane for lane, count in serving.items() if not count]
        if idle:
            result["workers_missing"], healthy = idle, False
    except Exception as exc:  # noqa: BLE001
        result["redis"], healthy = f"failed: {type(exc).__name__}", False
    if result.get("database") == "ok":
        overdue = [s.name for s in Schedule.objects.filter(enabled=True)
                   if s.last_run_at is None or s.last_run_at < now - dt.timedelta(seconds=s.interval_seconds)
                   - SCHEDULER_GRACE]
        result["scheduler"] = "ok" if not overdue else {"overdue": overdue}
        if overdue:
            healthy = False
    return healthy, result


@never_cache
@login_not_required
@require_GET
def healthz(request):
    healthy, result = checks()
    return JsonResponse({"healthy": healthy, **result}, status=200 if healthy else 503)


# ---- /metrics --------------------------------------------------------------------------------


class HubCollector:
    """Reads the hub's state at scrape time (see the module docstring)."""

    def __init__(self, now=None):
        self.now = now or timezone.now()

    def collect(self):
        now = self.now
        yield from self.unconfirmed(now)
        yield self.confirmation_latency(now)
        accounts = list(SellerAccount.objects.filter(active=True))
        lag = GaugeMetricFamily("hub_intake_lag_seconds", "Age of the oldest order change not yet read",
                                labels=["account"])
        for account in accounts:
            lag.add_metric([account.name], intake_lag(account, now) or 0.0)
        yield lag
        work = GaugeMetricFamily("hub_work_items", "Work items by kind and state", labels=["kind", "state"])
        for row in WorkItem.objects.values("kind", "state").annotate(n=Count("pk")).order_by():
            work.add_metric([row["kind"], row["state"]], row["n"])
        yield work
        depth = GaugeMetricFamily("hub_queue_depth", "Prompts waiting in each RQ lane", labels=["queue"])
        for lane in LANES:
            depth.add_metric([lane], django_rq.get_queue(lane).count)
        yield depth
        yield from self.exchanges(now)
        yield from self.rates(now, accounts)

    def unconfirmed(self, now):
        family = GaugeMetricFamily("hub_unconfirmed_packages", "Dispatched packages Amazon has not been told about, "
                                   "by time to ship-by", labels=["urgency"])
        pending = Shipment.objects.unconfirmed().order_by()
        edges = [now + dt.timedelta(hours=h) for h in URGENCY_HOURS]
        ship_by = "order__latest_ship_date"
        counts = pending.aggregate(
            late=Count("pk", filter=Q(**{f"{ship_by}__lt": edges[0]})),
            within_4h=Count("pk", filter=Q(**{f"{ship_by}__gte": edges[0], f"{ship_by}__lt": edges[1]})),
            within_24h=Count("pk", filter=Q(**{f"{ship_by}__gte": edges[1], f"{ship_by}__lt": edges[2]})),
            later=Count("pk", filter=Q(**{f"{ship_by}__gte": edges[2]}) | Q(**{f"{ship_by}__isnull": True})),
        )
        for name, value in counts.items():
            family.add_metric([name], value)
        yield family

    def confirmation_latency(self, now):
        """Dispatch to confirmation, over the last 24 hours' confirmations, as a cumulative histogram."""
        took = ExpressionWrapper(F("confirmed_at") - F("shipped_at"), output_field=DurationField())
        recent = Shipment.objects.filter(confirmed_at__gte=now - dt.timedelta(hours=24)).annotate(took=took)
        counts = recent.aggregate(
            count=Count("pk"), total=Sum("took"),
            **{f"le_{edge}": Count("pk", filter=Q(took__lte=dt.timedelta(seconds=edge))) for edge in LATENCY_BUCKETS})
        total = counts["total"].total_seconds() if counts["total"] else 0.0
        buckets = [(str(edge), counts[f"le_{edge}"]) for edge in LATENCY_BUCKETS] + [("+Inf", counts["count"])]
        family = HistogramMetricFamily("hub_confirmation_latency_seconds",
                                       "Dispatch to Amazon confirmation, confirmations of the last 24 hours")
        family.add_metric([], buckets, sum_value=total)
        return family

    def exchanges(self, now):
        errors = GaugeMetricFamily("hub_exchange_errors_last_hour", "Failed calls in the last hour",
                                   labels=["system", "operation"])
        throttled = GaugeMetricFamily("hub_exchange_throttled_last_hour", "429 answers in the last hour",
                                      labels=["system", "operation"])
        rows = (Exchange.objects.filter(started_at__gte=now - dt.timedelta(hours=1))
                .values("system", "operation")
                .annotate(failed=Count("pk", filter=~Q(outcome="ok")), limited=Count("pk", filter=Q(http_status=429)))
                .order_by())
        for row in rows:
            errors.add_metric([row["system"], row["operation"]], row["failed"])
            throttled.add_metric([row["system"], row["operation"]], row["limited"])
        yield errors
        yield throttled

    def rates(self, now, accounts):
        lsr = GaugeMetricFamily("hub_late_shipment_rate_percent", "Late Shipment Rate, 10 days, from the hub's "
                                "records", labels=["account", "marketplace"])
        vtr = GaugeMetricFamily("hub_valid_tracking_rate_percent", "Valid Tracking Rate, 30 days",
                                labels=["account", "marketplace"])
        for row in health.account_health(now, accounts, trend=False):
            if row.lsr_10.percent is not None:
                lsr.add_metric([row.account, row.marketplace], row.lsr_10.percent)
            if row.vtr_30.percent is not None:
                vtr.add_metric([row.account, row.marketplace], row.vtr_30.percent)
        yield lsr
        yield vtr


def allowed(request):
    """A bearer token equal to HUB_METRICS_TOKEN, or an address in HUB_METRICS_ALLOW; neither set: nobody."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return client_ip(request) in settings.METRICS_ALLOW


@never_cache
@login_not_required
@require_GET
def metrics(request):
    if not allowed(request):
        return HttpResponse("metrics need HUB_METRICS_TOKEN (Authorization: Bearer ...) or an address in "
                            "HUB_METRICS_ALLOW\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
