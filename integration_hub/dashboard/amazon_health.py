"""Amazon's own account-health figures beside the hub's: the seller performance report
(GET_V2_SELLER_PERFORMANCE_REPORT, JSON) asked for each account every few hours through the Reports
API, stored, and compared with what the hub's records say over the very same date ranges.

    refresh(accounts)    # the repeating job: follow reports under way, ask for one when the last is old
    comparison(report)   # [Comparison] per marketplace: Amazon's figure, the hub's, and whether they differ

A gap between the two means the records differ (orders confirmed outside the hub, orders the hub never
imported, a confirmation Amazon refused after the fact): ops must know which to trust, so the page says.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.utils import timezone

from integration_hub.dashboard import health
from integration_hub.dashboard.models import AmazonHealthReport
from integration_hub.orders import connect

logger = logging.getLogger(__name__)

REPORT_TYPE = "GET_V2_SELLER_PERFORMANCE_REPORT"
REFRESH = dt.timedelta(hours=6)  # Amazon recomputes these figures about daily
FAILED = ("CANCELLED", "FATAL")
# The report's metric -> (our name, Amazon's count field, Amazon's total field).
METRICS = {"lateShipmentRate": ("lsr", "lateShipmentCount", "orderCount"),
           "validTrackingRate": ("vtr", "validTrackingCount", "shipmentCount"),
           "preFulfillmentCancellationRate": ("cancel", "cancellationCount", "orderCount")}
STATUSES = ("NORMAL", "AT_RISK", "DEACTIVATED")


def refresh(accounts, now=None):
    """Move each account's report on: follow one under way, or ask for a new one when the last is old."""
    now = now or timezone.now()
    connect.for_each(accounts, lambda account: _refresh_one(account, now))


def _refresh_one(account, now):
    open_report = AmazonHealthReport.objects.filter(account=account, done=False).first()
    if open_report is not None:
        return follow(open_report, now)
    last = AmazonHealthReport.objects.filter(account=account).first()
    if last is not None and now - last.requested_at < REFRESH:
        return None
    report_id = connect.amazon(account).request_report(REPORT_TYPE)
    return AmazonHealthReport.objects.create(account=account, report_id=report_id, requested_at=now)


def follow(report, now):
    amazon = connect.amazon(report.account)
    status, document_id = amazon.report_state(report.report_id)
    if status in FAILED:
        _finish(report, status, now, note=f"Amazon ended the report {status}; the next run asks again")
    elif status == "DONE":
        try:
            marketplaces = read_report(amazon.download_report(document_id))
        except ValueError as exc:
            logger.warning("seller performance report %s of %s: %s", report.report_id, report.account, exc)
            _finish(report, status, now, note=str(exc))
        else:
            _finish(report, status, now, marketplaces=marketplaces)
    else:
        AmazonHealthReport.objects.filter(pk=report.pk).update(status=status)
    return report


def _finish(report, status, now, **fields):
    AmazonHealthReport.objects.filter(pk=report.pk).update(status=status, done=True, fetched_at=now, **fields)


def read_report(content):
    """{marketplace id: figures} from the report's JSON; ValueError saying what is missing and where."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"seller performance report is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("performanceMetrics"), list):
        raise ValueError("seller performance report has no performanceMetrics list")
    statuses = {entry.get("marketplaceId"): entry.get("status") for entry in data.get("accountStatuses") or []
                if isinstance(entry, dict)}
    found = {}
    for n, metrics in enumerate(data["performanceMetrics"]):
        where = f"performanceMetrics[{n}]"
        marketplace = metrics.get("marketplaceId") if isinstance(metrics, dict) else None
        if not marketplace:
            raise ValueError(f"seller performance report {where} has no marketplaceId")
        figures = {"status": statuses.get(marketplace) if statuses.get(marketplace) in STATUSES else ""}
        for metric, (name, count_field, total_field) in METRICS.items():
            value = metrics.get(metric)
            if value is None:
                continue
            try:
                span = value["reportingDateRange"]
                figures[name] = {"count": int(value[count_field]), "total": int(value[total_field]),
                                 "rate": float(value["rate"]), "status": str(value.get("status", "")),
                                 "from": span["reportingDateFrom"], "to": span["reportingDateTo"]}
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"seller performance report {where}.{metric}: missing or unreadable {exc}") from None
        found[marketplace] = figures
    return found


def latest(accounts):
    """{account id: the newest finished report with figures} for these accounts."""
    newest = {}
    for report in (AmazonHealthReport.objects.filter(account__in=accounts, done=True).exclude(marketplaces={})
                   .order_by("account_id", "-requested_at").distinct("account_id")):
        newest[report.account_id] = report
    return newest


def parse_stamp(value):
    """Amazon's "2026-11-23T23:59Z" as an aware datetime."""
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.UTC)


@dataclass
class Comparison:
    name: str  # "Late Shipment Rate", ...
    amazon: health.Rate
    amazon_status: str
    hub: health.Rate
    start: dt.datetime
    end: dt.datetime

    @property
    def differs(self):
        return (self.amazon.count, self.amazon.total) != (self.hub.count, self.hub.total)


RATES = {"lsr": (health.LSR_TARGET, True), "vtr": (health.VTR_TARGET, False), "cancel": (health.CANCEL_TARGET, True)}


def comparison(report, marketplace, computed=None):
    """Amazon's figures of one marketplace and the hub's over the same date ranges, per metric. The hub's
    figures cover every account; `computed` ({(metric, start, end): figures}) shares them between the
    reports of one page, whose dates are usually the same."""
    computed = {} if computed is None else computed
    rows = []
    figures = report.marketplaces.get(marketplace, {})
    for name, (target, ceiling) in RATES.items():
        amazon = figures.get(name)
        if amazon is None:
            continue
        start, end = parse_stamp(amazon["from"]), parse_stamp(amazon["to"]) + dt.timedelta(minutes=1)
        days = (end - start).days
        if (name, start, end) not in computed:
            figure = {"lsr": health.late_shipment, "vtr": health.valid_tracking, "cancel": health.cancellation}[name]
            computed[(name, start, end)] = figure(end, days, start=start)
        ours = computed[(name, start, end)]
        hub = ours.get((report.account_id, marketplace), health.Rate(0, 0, target, ceiling))
        rows.append(Comparison(name=health.DEFINITIONS[name][0], amazon=health.Rate(
            amazon["count"], amazon["total"], target, ceiling), amazon_status=amazon["status"], hub=hub,
            start=start, end=end))
    return rows
