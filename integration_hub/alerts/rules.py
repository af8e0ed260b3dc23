"""What each kind of rule finds now: {key: Finding}. A key present now and absent at the next evaluation
is an incident that resolved. Findings are grouped (per account, schedule, circuit, connection) so a
bad hour is a handful of incidents, not one message per order.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q

from connectors.models import BackOfficeConnection, CircuitState, SellerAccount
from integration_hub.alerts.choices import RuleKind
from integration_hub.dashboard import amazon_health, health
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.choices import HubState
from integration_hub.orders.intake import intake_lag
from integration_hub.orders.models import Order
from integration_hub.sync.models import Schedule, WorkItem

QUOTA_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Finding:
    summary: str
    detail: str = ""
    account_id: int | None = None


FINDERS = {}


def finder(kind):
    def decorate(func):
        FINDERS[kind] = func
        return func

    return decorate


def find(rule, now):
    """{key: Finding} for one rule now."""
    accounts = SellerAccount.objects.filter(active=True)
    if rule.account_id:
        accounts = accounts.filter(pk=rule.account_id)
    return FINDERS[rule.kind](rule, now, accounts)


def _when(moment):
    return f"{moment:%d %b %H:%M %Z}" if moment else "-"


@finder(RuleKind.UNCONFIRMED_NEAR_SHIP_BY)
def unconfirmed_near_ship_by(rule, now, accounts):
    """Orders due within `threshold` hours (or past due) that Amazon has no confirmation for yet."""
    rows = (Order.objects.awaiting_dispatch().filter(account__in=accounts, fulfillment_channel="MFN",
                                                     latest_ship_date__lt=now + dt.timedelta(hours=rule.threshold))
            .exclude(hub_state=HubState.CANCELLED)
            .values("account_id", "account__name").annotate(n=Count("pk"), first=Min("latest_ship_date")))
    return {f"account:{row['account_id']}": Finding(
        f"{row['account__name']}: {row['n']} order(s) due to ship within {rule.threshold} h are not confirmed on "
        f"Amazon (first ship-by {_when(row['first'])})",
        "Each becomes a late shipment if Amazon has no confirmation by its ship-by. Open the home page's "
        "at-risk list.", row["account_id"]) for row in rows}


@finder(RuleKind.LATE_TO_DISPATCH)
def late_to_dispatch(rule, now, accounts):
    rows = (Order.objects.late_to_dispatch(now).filter(account__in=accounts)
            .values("account_id", "account__name").annotate(n=Count("pk"), first=Min("latest_ship_date")))
    return {f"account:{row['account_id']}": Finding(
        f"{row['account__name']}: {row['n']} order(s) are past their ship-by and the warehouse has not "
        f"dispatched them (oldest ship-by {_when(row['first'])})", "", row["account_id"])
        for row in rows if row["n"] >= max(1, rule.threshold)}


@finder(RuleKind.SCHEDULE_OVERDUE)
def schedule_overdue(rule, now, accounts):
    """A schedule whose last completed run is older than its interval plus `threshold` minutes."""
    found = {}
    for schedule in Schedule.objects.filter(enabled=True):
        limit = now - dt.timedelta(seconds=schedule.interval_seconds) - dt.timedelta(minutes=rule.threshold)
        if schedule.last_success_at is None and (schedule.last_run_at is None or schedule.last_run_at >= limit):
            continue  # never run yet, or its first run began within the limit: the scheduler has just started
        if schedule.last_success_at is None or schedule.last_success_at < limit:
            error = schedule.last_error.splitlines()[0] if schedule.last_error else "no error recorded"
            found[f"schedule:{schedule.name}"] = Finding(
                f"Schedule {schedule.name} is overdue: last completed run {_when(schedule.last_success_at)}, "
                f"it should run every {schedule.interval_seconds // 60 or 1} min", f"Last error: {error}")
    return found


@finder(RuleKind.CIRCUIT_OPEN)
def circuit_open(rule, now, accounts):
    circuits = (CircuitState.objects.filter(state=CircuitState.State.OPEN,
                                            opened_at__lte=now - dt.timedelta(minutes=rule.threshold))
                .filter(Q(account__in=accounts) | Q(account__isnull=True)).select_related("account", "connection"))
    return {f"circuit:{c.pk}": Finding(
        f"Circuit open: {c.account or c.connection} {c.api} has failed {c.consecutive_failures} times in a row "
        f"(open since {_when(c.opened_at)})", "Calls wait without using attempts; they resume by themselves "
        "once a probe succeeds.", c.account_id) for c in circuits}


@finder(RuleKind.CONNECTION_SILENT)
def connection_silent(rule, now, accounts):
    """A back office (of the rule's accounts) with no successful call for `threshold` minutes."""
    limit = now - dt.timedelta(minutes=rule.threshold)
    connections = BackOfficeConnection.objects.filter(active=True, seller_accounts__in=accounts).distinct()
    return {f"connection:{c.pk}": Finding(
        f"{c.name} has been silent: no successful call since {_when(c.last_success_at)}",
        f"Last error: {c.last_error.splitlines()[0] if c.last_error else 'none recorded'}")
        for c in connections if c.last_success_at and c.last_success_at < limit}


@finder(RuleKind.HELD_ORDERS)
def held_orders(rule, now, accounts):
    rows = (Order.objects.held().filter(account__in=accounts, held_at__lt=now - dt.timedelta(minutes=rule.threshold))
            .values("account_id", "account__name").annotate(n=Count("pk"), first=Min("latest_ship_date")))
    return {f"account:{row['account_id']}": Finding(
        f"{row['account__name']}: {row['n']} order(s) held longer than {rule.threshold} min "
        f"(earliest ship-by {_when(row['first'])})", "Held orders never reach the warehouse: fix the mapping "
        "or release them on the exceptions page.", row["account_id"]) for row in rows}


@finder(RuleKind.DEAD_LETTERS)
def dead_letters(rule, now, accounts):
    rows = (WorkItem.objects.dead().filter(Q(account__in=accounts) | Q(account__isnull=True))
            .values("kind", "account_id").annotate(n=Count("pk")).order_by())
    return {f"dead:{row['kind']}:{row['account_id']}": Finding(
        f"{row['n']} dead letter(s): {row['kind'].replace('_', ' ')}", "A permanent error: read it on the work "
        "page, fix the cause, then retry.", row["account_id"]) for row in rows if row["n"] >= max(1, rule.threshold)}


@finder(RuleKind.QUOTA_EXHAUSTED)
def quota_exhausted(rule, now, accounts):
    rows = (Exchange.objects.filter(system="amazon", http_status=429, started_at__gte=now - QUOTA_WINDOW,
                                    account__in=accounts)
            .values("account_id", "account__name", "operation").annotate(n=Count("pk")).order_by())
    return {f"quota:{row['account_id']}:{row['operation']}": Finding(
        f"{row['account__name']}: Amazon refused {row['n']} {row['operation']} calls for quota (429) in "
        "15 minutes", "The hub waits and retries; many 429s mean another app shares the quota or the schedule "
        "is too tight.", row["account_id"]) for row in rows if row["n"] >= max(1, rule.threshold)}


@finder(RuleKind.INTAKE_LAG)
def intake_lag_rule(rule, now, accounts):
    found = {}
    for account in accounts:
        lag = intake_lag(account, now)
        if lag is not None and lag > rule.threshold * 60:
            found[f"account:{account.pk}"] = Finding(
                f"{account.name}: order intake is {lag / 60:.0f} min behind", "New Amazon orders reach the "
                "warehouse late; check the searchOrders quota and the orders lane.", account.pk)
    return found


@finder(RuleKind.HEALTH_TARGET)
def health_target(rule, now, accounts):
    found = {}
    for row in health.account_health(now, accounts, trend=False):
        for name, label in (("lsr_10", "Late Shipment Rate (10 days)"), ("lsr_30", "Late Shipment Rate (30 days)"),
                            ("vtr_30", "Valid Tracking Rate (30 days)"), ("cancel_7", "Cancellation rate (7 days)")):
            rate = getattr(row, name)
            if rate.breached:
                found[f"health:{row.account_id}:{row.marketplace}:{name}"] = Finding(
                    f"{row.account} {row.marketplace}: {label} is {rate} against Amazon's target",
                    "Amazon may suspend selling on this marketplace; see the health page.", row.account_id)
    return found


@finder(RuleKind.AMAZON_STATUS)
def amazon_status(rule, now, accounts):
    """The newest seller performance report of an account says AT_RISK or DEACTIVATED for a marketplace."""
    found = {}
    for report in amazon_health.latest(accounts).values():
        for marketplace, figures in sorted(report.marketplaces.items()):
            status = figures.get("status")
            if status in ("AT_RISK", "DEACTIVATED"):
                name = health.MARKETPLACES.get(marketplace, marketplace)
                missed = [label for key, label in (("lsr", "Late Shipment Rate"), ("vtr", "Valid Tracking Rate"),
                                                   ("cancel", "cancellation rate"))
                          if figures.get(key, {}).get("status") == "BAD"]
                found[f"amazon:{report.account_id}:{marketplace}"] = Finding(
                    f"{report.account} {name}: Amazon reports the account {status}"
                    + (f" ({', '.join(missed)} missed)" if missed else ""),
                    f"From Amazon's seller performance report of {report.fetched_at:%d %b %H:%M %Z}. Open the health "
                    "page (Amazon's own figures) and Account Health in Seller Central.", report.account_id)
    return found


@finder(RuleKind.HEALTH_FORECAST)
def health_forecast(rule, now, accounts):
    """The forecast (worked out every minute) says `threshold` or fewer late orders in the coming hours
    would put the Late Shipment Rate over target, or the packages waiting would sink Valid Tracking."""
    from integration_hub.dashboard.forecast import sentences
    from integration_hub.dashboard.models import HealthForecast

    found = {}
    for forecast in HealthForecast.objects.filter(account__in=accounts).select_related("account"):
        close = forecast.to_cross <= rule.threshold
        for kind, risky, text in sentences(forecast):
            if risky and (kind == "vtr" or close):
                found[f"forecast:{forecast.account_id}:{forecast.marketplace_id}:{kind}"] = Finding(
                    text, "See the home page's at-risk list: dispatch and confirm the orders due soonest first.",
                    forecast.account_id)
    return found
