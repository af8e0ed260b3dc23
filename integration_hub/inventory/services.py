"""Stock out: the back office is the single source of truth; Amazon gets only what changed.

    measure(account, tier)        # read get_stock into StockLevel (one back-office call); newest reading wins
    push(account, tier)           # the PUSH_STOCK work item: send changed quantities to Amazon
    follow_feeds()                # record the per-SKU outcome of submitted feeds
    watch_demand(account, skus)   # new orders: push at once any SKU that fell to the low-stock threshold

What Amazon is offered = back-office available − the hub's own demand the back office has not
allocated yet (orders received, queued or held, not yet created there) − the ops-set buffer.
"""

import logging

from django.conf import settings
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.inventory.models import StockFeed, StockLevel, StockPush
from integration_hub.orders import connect
from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.sync.locks import advisory_lock
from mappings.models import BufferRules, SkuLink

logger = logging.getLogger(__name__)

# Up to this many changed SKUs are sent one by one (patchListingsItem, 5 per second);
# more go as one JSON_LISTINGS_FEED, which Amazon limits to 5 submissions per 5 minutes.
MAX_SINGLE_UPDATES = 10
# Amazon's limit on messages in one JSON_LISTINGS_FEED (since May 2025).
FEED_MESSAGE_LIMIT = 25_000
# Feed processing statuses after which nothing more will happen.
FEED_FAILED = ("CANCELLED", "FATAL")


def push_key(account, tier):
    """The PUSH_STOCK work-item key: one item per account and velocity tier."""
    return f"{account.pk}:{tier}"


def _links(account, tier):
    return SkuLink.objects.filter(account=account, velocity_tier=tier, active=True)


def measure(account, tier):
    """Read the tier's items from the back office into StockLevel; return how many records were read."""
    item_codes = sorted(set(_links(account, tier).values_list("item_code", flat=True)))
    if not item_codes:
        return 0
    records = connect.back_office(account.back_office).get_stock(item_codes)
    store_levels(account.back_office, records)
    return len(records)


def store_levels(back_office, records):
    """Upsert StockLevels; a reading older than the one stored is ignored (two overlapping runs, a slow
    reply). Returns how many rows changed. One statement per 1,000 records."""
    newest = {}
    for record in records:
        key = (record.item_code, record.warehouse or "")
        if key not in newest or newest[key].measured_at <= record.measured_at:
            newest[key] = record
    table = StockLevel._meta.db_table
    now = timezone.now()
    rows = list(newest.values())
    stored = 0
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = [value for record in chunk for value in (
            back_office.pk, record.item_code, record.warehouse or "", record.on_hand, max(0, record.allocated),
            record.available, record.measured_at, now)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (connection_id, item_code, warehouse, on_hand, allocated, available,"
                f" measured_at, updated_at) VALUES {values}"
                " ON CONFLICT (connection_id, item_code, warehouse) DO UPDATE SET on_hand = EXCLUDED.on_hand,"
                " allocated = EXCLUDED.allocated, available = EXCLUDED.available,"
                " measured_at = EXCLUDED.measured_at, updated_at = EXCLUDED.updated_at"
                f" WHERE {table}.measured_at <= EXCLUDED.measured_at",
                params,
            )
            stored += cursor.rowcount
    return stored


# Orders whose stock the back office has not allocated yet: the hub holds them (received, queued to
# send, held for review) and Amazon still expects them to ship.
UNALLOCATED_STATES = (HubState.RECEIVED, HubState.HELD)
ENDED_STATUSES = (OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.UNFULFILLABLE)


def unallocated_demand(account, links):
    """{item_code: back-office units} the hub's own unallocated orders will take, for the given links."""
    from integration_hub.orders.models import OrderLine

    by_sku = {link.seller_sku: link for link in links}
    rows = (OrderLine.objects.filter(order__account=account, order__hub_state__in=UNALLOCATED_STATES,
                                     order__fulfillment_channel="MFN", sku__in=by_sku)
            .exclude(order__status__in=ENDED_STATUSES)
            .values("sku").annotate(units=Sum(F("quantity_ordered") - F("quantity_shipped"))))
    demand = {}
    for row in rows:
        link = by_sku[row["sku"]]
        demand[link.item_code] = demand.get(link.item_code, 0) + max(0, row["units"]) * link.pack_multiplier
    return demand


def wanted_quantities(account, tier=None, skus=None):
    """{sku: (quantity, handling_days)} for linked SKUs (of a tier, or the given SKUs) whose item was measured."""
    links = _links(account, tier) if tier else SkuLink.objects.filter(account=account, active=True,
                                                                        seller_sku__in=list(skus or ()))
    links = list(links)
    available = dict(StockLevel.objects.filter(connection=account.back_office,
                                               item_code__in={link.item_code for link in links})
                     .values("item_code").annotate(total=Sum("available")).values_list("item_code", "total"))
    demand = unallocated_demand(account, links)
    wanted = {}
    buffers = BufferRules([account.pk])
    for link in links:
        if link.item_code not in available:
            continue  # never measured: unknown is not zero, so nothing is sent
        units = max(0, available[link.item_code] - demand.get(link.item_code, 0))
        buffer = buffers.for_link(link)
        quantity = link.amazon_quantity(buffer.apply(units) if buffer else units)
        wanted[link.seller_sku] = (quantity, link.handling_days)
    return wanted


def watch_demand(account, skus):
    """After new orders: a SKU whose offer falls to the low-stock threshold or below is pushed now, not at
    its tier's next run (a fast mover can sell out within minutes). Returns the tiers prompted."""
    wanted = wanted_quantities(account, skus=skus)
    if not wanted:
        return set()
    pushed = dict(StockPush.objects.filter(account=account, sku__in=wanted).values_list("sku", "quantity"))
    low = [sku for sku, (quantity, _) in wanted.items()
           if quantity <= settings.STOCK_LOW_THRESHOLD and pushed.get(sku) != quantity]
    return push_tiers_now(account, low)


def push_tiers_now(account, skus):
    """Make the PUSH_STOCK work of every tier holding one of `skus` due now (a finished push runs again).
    `skus` may be a list or a queryset of SKUs. Returns the tiers prompted."""
    from integration_hub.sync.choices import WorkKind
    from integration_hub.sync.engine import submit

    tiers = set(SkuLink.objects.filter(account=account, seller_sku__in=skus, active=True)
                .values_list("velocity_tier", flat=True))
    for tier in sorted(tiers):
        submit(WorkKind.PUSH_STOCK, push_key(account, tier), account=account, reset=True)
    return tiers


def open_feed_skus(account):
    """SKUs whose last push travels in a feed Amazon has not finished: a single update now could be
    overwritten by the older value when the feed lands, so they wait for it (then go again if changed)."""
    open_feeds = StockFeed.objects.filter(account=account, done=False).values("feed_id")
    return set(StockPush.objects.filter(account=account, feed_id__in=open_feeds).values_list("sku", flat=True))


def changes(account, tier):
    """QuantityUpdates for SKUs whose quantity or handling time differs from the last push, or whose push
    failed; SKUs in an unfinished feed are left for after it."""
    from connectors.amazon.records import QuantityUpdate

    wanted = wanted_quantities(account, tier)
    last = {push.sku: push for push in StockPush.objects.filter(account=account, sku__in=wanted)}
    waiting = open_feed_skus(account)
    updates = []
    for sku, (quantity, handling_days) in sorted(wanted.items()):
        pushed = last.get(sku)
        if sku in waiting:
            continue
        if (pushed and pushed.quantity == quantity and not pushed.last_error
                and (handling_days is None or pushed.handling_days == handling_days)):
            continue
        updates.append(QuantityUpdate(sku=sku, quantity=quantity, handling_days=handling_days))
    return updates


def _record_push(account, update, feed_id="", error=""):
    _record_pushes(account, [update], feed_id=feed_id, error=error)


def _record_pushes(account, updates, feed_id="", error=""):
    """Remember what was sent: one upsert for a whole feed (up to 25,000 SKUs), not one per SKU."""
    now = timezone.now()
    StockPush.objects.bulk_create(
        [StockPush(account=account, sku=update.sku, quantity=update.quantity, handling_days=update.handling_days,
                   pushed_at=now, feed_id=feed_id, last_error=error[:2000]) for update in updates],
        update_conflicts=True, unique_fields=["account", "sku"],
        update_fields=["quantity", "handling_days", "pushed_at", "feed_id", "last_error"],
        batch_size=5000,
    )


def push(account, tier):
    """Send the tier's changed quantities: a few one by one, many as feeds of at most FEED_MESSAGE_LIMIT.

    A feed message must carry the handling time (a replace without it would wipe it), so for SKUs
    whose handling time the hub does not know it is read from Amazon first, 20 listings a call.
    One push per account and tier at a time (the sync command and a worker may overlap).
    """
    with advisory_lock(f"stock-push:{account.pk}:{tier}") as mine:
        if not mine:
            raise ConnectorError(f"another stock push of {account} {tier} is running", permanent=False,
                                 retry_after=5)
        updates = changes(account, tier)
        if not updates:
            return "nothing changed"
        return _send(account, updates)


def _send(account, updates):
    amazon = connect.amazon(account)
    singles, batched = updates, []
    if len(updates) > MAX_SINGLE_UPDATES:
        unknown = [update.sku for update in updates if update.handling_days is None]
        found = amazon.lead_days(unknown) if unknown else {}
        for update in updates:
            if update.handling_days is None and found.get(update.sku) is not None:
                update.handling_days = found[update.sku]
        singles = [update for update in updates if update.handling_days is None]
        batched = [update for update in updates if update.handling_days is not None]
    for update in singles:
        try:
            amazon.update_quantity(update)  # the connector pushes a unified account once per region
        except ConnectorError as exc:
            if not exc.permanent:
                raise  # the work item retries; SKUs already pushed are not sent again
            logger.warning("stock for %s rejected: %s", update.sku, exc.message)
            _record_push(account, update, error=exc.message)
            continue
        _record_push(account, update)
    for start in range(0, len(batched), FEED_MESSAGE_LIMIT):
        chunk = batched[start:start + FEED_MESSAGE_LIMIT]
        feed_id = amazon.submit_quantity_feed(chunk)
        StockFeed.objects.create(account=account, feed_id=feed_id, sku_count=len(chunk))
        _record_pushes(account, chunk, feed_id=feed_id)
    return f"{len(singles)} updates sent one by one, {len(batched)} in feeds"


def follow_feeds():
    """Ask Amazon about every unfinished feed; when done, record each SKU's issues on its StockPush."""
    for feed in StockFeed.objects.filter(done=False).select_related("account"):
        result = connect.amazon(feed.account).feed_result(feed.feed_id)
        StockFeed.objects.filter(pk=feed.pk).update(status=result.status)
        if not result.done:
            continue
        pushes = StockPush.objects.filter(account=feed.account, feed_id=feed.feed_id)
        if result.status in FEED_FAILED:
            # Every SKU of the feed is marked, so the next run of its tier sends it again.
            pushes.update(last_error=f"feed {feed.feed_id} ended {result.status}")
        for sku, issues in result.issues_by_sku.items():
            if sku and issues:
                pushes.filter(sku=sku).update(last_error="; ".join(issues)[:2000])
        StockFeed.objects.filter(pk=feed.pk).update(done=True, finished_at=timezone.now(), accepted=result.accepted,
                                                     errors=result.errors)
        if result.status == "DONE":
            _after_feed(feed)


def _after_feed(feed):
    """SKUs that changed while the feed was processing waited for it: push their tiers now."""
    push_tiers_now(feed.account, StockPush.objects.filter(account=feed.account, feed_id=feed.feed_id).values("sku"))


def stock_rows():
    """One row per active SKU link with its measured stock and its last push (the stock page and API)."""
    from django.db.models import Max, OuterRef, Subquery

    levels = StockLevel.objects.filter(connection=OuterRef("account__back_office"), item_code=OuterRef("item_code"))
    per_item = levels.values("item_code")
    last_push = StockPush.objects.filter(account=OuterRef("account"), sku=OuterRef("seller_sku"))
    return SkuLink.objects.filter(active=True).select_related("account").annotate(
        available=Subquery(per_item.annotate(total=Sum("available")).values("total")),
        measured_at=Subquery(per_item.annotate(latest=Max("measured_at")).values("latest")),
        pushed_quantity=Subquery(last_push.values("quantity")),
        pushed_at=Subquery(last_push.values("pushed_at")),
        push_error=Subquery(last_push.values("last_error")),
    ).order_by("account", "seller_sku")

