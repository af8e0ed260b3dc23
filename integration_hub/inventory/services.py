"""Stock out: the back office is the single source of truth; Amazon gets only what changed.

    measure(account, tier)   # read get_stock into StockLevel (one back-office call)
    push(account, tier)      # the PUSH_STOCK work item: send changed quantities to Amazon
    follow_feeds()           # record the per-SKU outcome of submitted feeds
"""

import logging

from django.db.models import Sum
from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.inventory.models import StockFeed, StockLevel, StockPush
from integration_hub.orders import connect
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
    for record in records:
        StockLevel.objects.update_or_create(
            connection=account.back_office, item_code=record.item_code, warehouse=record.warehouse or "",
            defaults={"on_hand": record.on_hand, "allocated": max(0, record.allocated),
                      "available": record.available, "measured_at": record.measured_at},
        )
    return len(records)


def wanted_quantities(account, tier):
    """{sku: (quantity, handling_days)} for the tier's linked SKUs whose item has been measured."""
    available = dict(StockLevel.objects.filter(connection=account.back_office).values("item_code")
                     .annotate(total=Sum("available")).values_list("item_code", "total"))
    wanted = {}
    buffers = BufferRules([account.pk])
    for link in _links(account, tier):
        if link.item_code not in available:
            continue  # never measured: unknown is not zero, so nothing is sent
        units = max(0, available[link.item_code])
        buffer = buffers.for_link(link)
        quantity = link.amazon_quantity(buffer.apply(units) if buffer else units)
        wanted[link.seller_sku] = (quantity, link.handling_days)
    return wanted


def changes(account, tier):
    """QuantityUpdates for SKUs whose quantity or handling time differs from the last push, or whose push failed."""
    from connectors.amazon.records import QuantityUpdate

    wanted = wanted_quantities(account, tier)
    last = {push.sku: push for push in StockPush.objects.filter(account=account, sku__in=wanted)}
    updates = []
    for sku, (quantity, handling_days) in sorted(wanted.items()):
        pushed = last.get(sku)
        if pushed and pushed.quantity == quantity and pushed.handling_days == handling_days and not pushed.last_error:
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

    A SKU whose handling time the hub does not know always goes one by one: the single update
    reads the listing's current handling time first, while a feed message without it would wipe it.
    """
    updates = changes(account, tier)
    if not updates:
        return "nothing changed"
    amazon = connect.amazon(account)
    if len(updates) <= MAX_SINGLE_UPDATES:
        singles, batched = updates, []
    else:
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

