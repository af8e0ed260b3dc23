"""The account-health forecast: what the Late Shipment Rate (10 days) and Valid Tracking Rate (30 days)
become over the next hours if the orders now due miss their ship-by, and how many more late orders an
account can absorb before it crosses Amazon's target. Worked out every minute (`health.forecast`) and
kept in HealthForecast, so the home page reads one small table; said in words:

    "3 more late orders in the next 6 hours would put chaos UK's Late Shipment Rate at 4% or over"

The LSR arithmetic: with L late of T due in the last 10 days and U orders due within the horizon and not
yet confirmed, k of those late make (L + k) / (T + U); the smallest k at or over the target is the
margin (0: over the target even if every upcoming order ships on time). L and T are counted over the
10-day window as it will stand at the horizon (orders that age out of it by then are left out).
"""

import datetime as dt
import math

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from integration_hub.dashboard import health
from integration_hub.dashboard.models import HealthForecast
from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.models import Order
from integration_hub.shipments.models import Shipment

HORIZON_HOURS = 6


def lsr_margin(late, due, upcoming, target=health.LSR_TARGET):
    """The fewest of `upcoming` orders that, late, put (late + k) / (due + upcoming) at or over `target`
    percent: 0 when it is there already; more than `upcoming` when even all of them cannot."""
    total = due + upcoming
    if total == 0:
        return 1 if upcoming == 0 else upcoming + 1
    needed = target / 100 * total - late
    return max(0, math.ceil(needed - 1e-9))


def refresh(accounts, now=None):
    """Work out and store the forecast of every account and marketplace with orders."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=HORIZON_HOURS)
    lsr = health.late_shipment(now, 10, start=horizon - dt.timedelta(days=10))
    vtr = health.valid_tracking(now, 30)
    confirmed = Exists(Shipment.objects.filter(order=OuterRef("pk"), confirmed_at__isnull=False))
    upcoming = {(r["account_id"], r["marketplace_id"]): r["n"] for r in (
        Order.objects.filter(account__in=accounts, fulfillment_channel="MFN", latest_ship_date__gte=now,
                             latest_ship_date__lt=horizon).exclude(status=OrderStatus.CANCELLED)
        .annotate(confirmed=confirmed).filter(confirmed=False)
        .values("account_id", "marketplace_id").annotate(n=Count("pk")))}
    waiting = {(r["order__account_id"], r["order__marketplace_id"]): (r["n"], r["valid"]) for r in (
        Shipment.objects.unconfirmed().filter(order__account__in=accounts).order_by()
        .annotate(code=health.carrier_code()).values("order__account_id", "order__marketplace_id")
        .annotate(n=Count("pk"), valid=Count("pk", filter=health.VALID_TRACKING)))}
    account_ids = {account.pk for account in accounts}
    keys = {key for table in (lsr, vtr, upcoming, waiting) for key in table if key[0] in account_ids}
    keys |= {(account.pk, marketplace) for account in accounts for marketplace in account.marketplace_ids or []}
    rows = []
    for account_id, marketplace in sorted(keys):
        late = lsr.get((account_id, marketplace), health.Rate(0, 0, health.LSR_TARGET))
        tracked = vtr.get((account_id, marketplace), health.Rate(0, 0, health.VTR_TARGET, ceiling=False))
        coming = upcoming.get((account_id, marketplace), 0)
        pending, pending_valid = waiting.get((account_id, marketplace), (0, 0))
        rows.append(HealthForecast(
            account_id=account_id, marketplace_id=marketplace, computed_at=now, horizon_hours=HORIZON_HOURS,
            late=late.count, due=late.total, upcoming=coming, to_cross=lsr_margin(late.count, late.total, coming),
            valid=tracked.count, packages=tracked.total, waiting=pending, waiting_valid=pending_valid))
    with transaction.atomic():
        HealthForecast.objects.filter(account__in=accounts).delete()
        HealthForecast.objects.bulk_create(rows)
    return len(rows)


def sentences(forecast):
    """What the forecast means, in words: [("lsr" or "vtr", at risk?, text)]."""
    name = f"{forecast.account.name} {health.MARKETPLACES.get(forecast.marketplace_id, forecast.marketplace_id)}"
    hours = forecast.horizon_hours
    target = f"{health.LSR_TARGET:g}%"
    now_rate = health.Rate(forecast.late, forecast.due, health.LSR_TARGET)
    said = []
    if forecast.to_cross == 0:
        said.append(("lsr", True, f"{name}'s Late Shipment Rate is at or over {target} now ({now_rate}, "
                                  f"{forecast.late} late of {forecast.due} due in 10 days) even if the "
                                  f"{forecast.upcoming} orders due in the next {hours} hours ship on time"))
    elif forecast.to_cross <= forecast.upcoming:
        more = "1 more late order" if forecast.to_cross == 1 else f"{forecast.to_cross} more late orders"
        said.append(("lsr", True, f"{more} in the next {hours} hours would put {name}'s Late Shipment Rate at or over "
                           f"{target} ({forecast.upcoming} due and not confirmed; now {now_rate})"))
    elif forecast.upcoming:
        said.append(("lsr", False, f"Even if all {forecast.upcoming} orders due in the next {hours} hours ship late, "
                            f"{name}'s Late Shipment Rate stays under {target} (now {now_rate})"))
    if forecast.waiting:
        after = health.Rate(forecast.valid + forecast.waiting_valid, forecast.packages + forecast.waiting,
                            health.VTR_TARGET, ceiling=False)
        invalid = forecast.waiting - forecast.waiting_valid
        if after.breached:
            said.append(("vtr", True, f"Confirmed as they stand, the {forecast.waiting} packages waiting ({invalid} "
                                      f"without a tracking number or an accepted carrier) would put {name}'s Valid "
                                      f"Tracking Rate at {after}, under {health.VTR_TARGET:g}%"))
    return said
