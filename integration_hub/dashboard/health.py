"""Account health from the hub's own records, per seller account and marketplace, with Amazon's
definitions and targets: Late Shipment Rate (10 and 30 days), Valid Tracking Rate (30 days) and the
pre-fulfilment cancellation rate (7 days), and the Late Shipment Rate per day for a trend.

Each figure is a few aggregate queries over indexed columns, whatever the number of orders.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate

from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.models import Order
from integration_hub.shipments.models import Shipment
from mappings.models import CarrierMap

# Public marketplace ids (Amazon's marketplace-ids page) for display.
MARKETPLACES = {
    "A1F83G8C2ARO7P": "UK", "A1PA6795UKMFR9": "DE", "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES", "A1805IZSGTT6HS": "NL", "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE", "A28R8C7NBKEWEA": "IE", "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
}

# Amazon's targets, in percent: a ceiling for the late and cancellation rates, a floor for valid tracking.
LSR_TARGET, VTR_TARGET, CANCEL_TARGET = 4.0, 95.0, 2.5

DEFINITIONS = {
    "lsr": ("Late Shipment Rate", "Orders whose shipment confirmation reached Amazon after the expected ship date, "
            "over all orders due in the window (merchant-fulfilled, not cancelled). An order due and not yet "
            "confirmed counts as late. Amazon's target: under 4%."),
    "vtr": ("Valid Tracking Rate", "Packages confirmed with a tracking number and a carrier Amazon recognises "
            "(not 'Other'), over all packages confirmed in the last 30 days. Amazon's target: over 95%."),
    "cancel": ("Pre-fulfilment cancellation rate", "Orders cancelled before shipment other than at the buyer's "
               "request, over all orders placed in the last 7 days. Amazon's target: under 2.5%."),
}


@dataclass(frozen=True)
class Rate:
    """count of total, against a target percentage that is a ceiling (LSR) or a floor (VTR)."""

    count: int
    total: int
    target: float
    ceiling: bool = True

    @property
    def percent(self):
        return 100.0 * self.count / self.total if self.total else None

    @property
    def breached(self):
        if self.percent is None:
            return False
        # Amazon's conditions: LESS_THAN a ceiling, GREATER_THAN a floor; at the target itself both miss.
        return self.percent >= self.target if self.ceiling else self.percent <= self.target

    def __str__(self):
        return "no orders" if self.percent is None else f"{self.percent:.1f}%"


def first_confirmation():
    return Subquery(Shipment.objects.filter(order=OuterRef("pk"), confirmed_at__isnull=False)
                    .order_by("confirmed_at").values("confirmed_at")[:1])


def late_rule():
    """Late: confirmed after the ship-by, or due with no confirmation (unless Amazon shows it shipped:
    confirmed some other way, which the hub cannot time)."""
    return Q(confirmed_first__gt=F("latest_ship_date")) | (
        Q(confirmed_first__isnull=True) & ~Q(status__in=[OrderStatus.SHIPPED, OrderStatus.INVOICE_UNCONFIRMED]))


def due_orders(now, days, start=None):
    """Merchant-fulfilled orders not cancelled, due from `start` (default `days` before `now`) until `now`."""
    start = start or now - dt.timedelta(days=days)
    return (Order.objects.filter(fulfillment_channel="MFN", latest_ship_date__gte=start, latest_ship_date__lt=now)
            .exclude(status=OrderStatus.CANCELLED).annotate(confirmed_first=first_confirmation()))


def late_shipment(now, days, start=None):
    """{(account id, marketplace id): Rate} over orders due in the last `days` days (or from `start`)."""
    rows = due_orders(now, days, start).values("account_id", "marketplace_id").annotate(
        total=Count("pk"), late=Count("pk", filter=late_rule()))
    return {(r["account_id"], r["marketplace_id"]): Rate(r["late"], r["total"], LSR_TARGET) for r in rows}


def carrier_code():
    """A shipment's Amazon carrier code from the active carrier map (annotate as `code`)."""
    return Subquery(CarrierMap.objects.filter(warehouse_ship_method=OuterRef("ship_method"), active=True)
                    .values("carrier_code")[:1])


# A package with valid tracking: a tracking number and a carrier Amazon recognises (needs `code`).
VALID_TRACKING = ~Q(tracking_number="") & Q(code__isnull=False) & ~Q(code="Other")


def valid_tracking(now, days=30, start=None):
    valid = VALID_TRACKING
    rows = (Shipment.objects.filter(confirmed_at__gte=start or now - dt.timedelta(days=days), confirmed_at__lte=now)
            .annotate(code=carrier_code())
            .values("order__account_id", "order__marketplace_id")
            .annotate(total=Count("pk"), valid=Count("pk", filter=valid)))
    return {(r["order__account_id"], r["order__marketplace_id"]):
            Rate(r["valid"], r["total"], VTR_TARGET, ceiling=False) for r in rows}


def cancellation(now, days=7, start=None):
    confirmed = Exists(Shipment.objects.filter(order=OuterRef("pk"), confirmed_at__isnull=False))
    seller_cancelled = Q(status=OrderStatus.CANCELLED, buyer_cancel_reason="", shipped_any=False)
    rows = (Order.objects.filter(fulfillment_channel="MFN", purchase_date__gte=start or now - dt.timedelta(days=days),
                                 purchase_date__lte=now)
            .annotate(shipped_any=confirmed).values("account_id", "marketplace_id")
            .annotate(total=Count("pk"), cancelled=Count("pk", filter=seller_cancelled)))
    return {(r["account_id"], r["marketplace_id"]): Rate(r["cancelled"], r["total"], CANCEL_TARGET) for r in rows}


def late_by_day(now, days=30):
    """{(account id, marketplace id): [(date, Rate), ...]} oldest first, days without orders left out."""
    rows = (due_orders(now, days).annotate(day=TruncDate("latest_ship_date"))
            .values("account_id", "marketplace_id", "day")
            .annotate(total=Count("pk"), late=Count("pk", filter=late_rule())).order_by("day"))
    trend = {}
    for r in rows:
        trend.setdefault((r["account_id"], r["marketplace_id"]), []).append(
            (r["day"], Rate(r["late"], r["total"], LSR_TARGET)))
    return trend


LATENCY_SQL = """
SELECT o.account_id, (s.confirmed_at AT TIME ZONE 'UTC')::date AS day,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.confirmed_at - s.shipped_at)) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM s.confirmed_at - s.shipped_at)) AS p95,
       count(*) AS packages
FROM shipments_shipment s JOIN orders_order o ON o.id = s.order_id
WHERE s.confirmed_at >= %s AND s.confirmed_at < %s AND o.account_id = ANY(%s)
GROUP BY 1, 2 ORDER BY 1, 2
"""


def confirmation_latency_by_day(now, account_ids, days=30):
    """{account id: [(date (UTC), p50 seconds, p95 seconds, packages)]}: how long from the warehouse's
    dispatch to Amazon's confirmation, per day the confirmations reached Amazon, oldest first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LATENCY_SQL, [now - dt.timedelta(days=days), now, list(account_ids)])
        rows = cursor.fetchall()
    found = {}
    for account_id, day, p50, p95, packages in rows:
        found.setdefault(account_id, []).append((day, max(0.0, p50), max(0.0, p95), packages))
    return found


@dataclass
class Health:
    account_id: int
    account: str
    marketplace: str
    lsr_10: Rate
    lsr_30: Rate
    vtr_30: Rate
    cancel_7: Rate
    trend: list

    @property
    def breached(self):
        return any(rate.breached for rate in (self.lsr_10, self.lsr_30, self.vtr_30, self.cancel_7))


def account_health(now, accounts, trend=True):
    """One Health per account and marketplace that has orders in any window, worst first; `trend=False`
    leaves out the daily series (the home page and /metrics only need the figures)."""
    names = {account.pk: account.name for account in accounts}
    figures = {"lsr_10": late_shipment(now, 10), "lsr_30": late_shipment(now, 30), "vtr_30": valid_tracking(now),
               "cancel_7": cancellation(now)}
    empty = {"lsr_10": Rate(0, 0, LSR_TARGET), "lsr_30": Rate(0, 0, LSR_TARGET),
             "vtr_30": Rate(0, 0, VTR_TARGET, ceiling=False), "cancel_7": Rate(0, 0, CANCEL_TARGET)}
    series = late_by_day(now) if trend else {}
    keys = sorted({key for table in figures.values() for key in table if key[0] in names})
    result = [Health(account_id=key[0], account=names[key[0]], marketplace=MARKETPLACES.get(key[1], key[1]),
                     trend=series.get(key, []),
                     **{name: table.get(key, empty[name]) for name, table in figures.items()}) for key in keys]
    return sorted(result, key=lambda health: (not health.breached, health.account, health.marketplace))
