"""Orders in from Amazon: the incremental search, notifications, re-fetches and the reconciliation.

searchOrders allows one request every three minutes (burst 20), so every accepted request must
move intake forward. A search window is walked page by page and its place (window bounds and
page token) is saved in a Cursor row after each page: a run that stops at the quota, a failure or
a killed worker resumes at the next page, and never re-reads what it has. The repeating job runs
often and spends only the tokens the bucket holds (`run_intake`), so the poll cadence follows the
quota instead of a fixed interval. ORDER_CHANGE notifications (SQS) are the fast path: each queues
a getOrder (its own, larger quota); the search is the backstop.

    import_recent(account)   # as many pages as the quota allows now
    reconcile(account)       # the last 24 hours again, page by page, leaving intake its share
"""

import datetime as dt
import logging
from collections import Counter

from django.db import transaction
from django.db.models import DateTimeField, Max, Min
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.base import ConnectorError
from connectors.models import SellerAccount
from connectors.shared_cache import shared_redis
from integration_hub.inventory.services import watch_demand
from integration_hub.orders import connect
from integration_hub.orders.models import Order
from integration_hub.orders.services import order_key, route, route_many
from integration_hub.orders.store import store_orders, upsert_order
from integration_hub.orders.windows import NOTICE_SLACK, RECONCILE_RESERVE, Walk
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import submit
from integration_hub.sync.locks import advisory_lock
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

SEARCH = "searchOrders"
# A new account's first import reaches back this far.
FIRST_IMPORT_LOOKBACK = dt.timedelta(days=1)
# A re-read of one order (notification, re-fetch) ranks as if its ship-by were this far away.
IMPORT_RANK = dt.timedelta(minutes=30)
# A notified read's WorkItem.recency (higher first on equal ship-by) is this less its oldest unread change
# in epoch milliseconds: the oldest first, and all ahead of other work on the same ship-by (recency 0).
OLDEST_FIRST = 2 ** 53
# The reconciliation re-reads the orders updated within this window...
RECONCILE_WINDOW = dt.timedelta(hours=24)
# ...and only while the bucket holds more than RECONCILE_RESERVE requests, which stay for intake.


def _store(account, orders, stats):
    """Store and route a page's orders, the page at once; if that fails, order by order, and one that
    cannot be read or stored is queued on its own.

    Counts into `stats`: fetched, created, duplicates (already known), held, cancelled, errors.
    """
    failed = list(orders.unreadable)  # logged with the reason by the connector
    stats["fetched"] += len(orders) + len(orders.unreadable)
    created = set()
    try:
        with transaction.atomic():  # stored and routed together: a run that dies between leaves nothing
            stored = store_orders(account, list(orders))
            moved = [order for order in stored if order.changed]
            outcomes = dict(zip([order.pk for order in moved], route_many(moved)))
        created = {order.amazon_order_id for order in stored if order.just_created}
    except Exception as exc:  # e.g. an amount too large for the hub's columns: find the order, never stall the page
        logger.warning("a page of %s orders cannot be stored at once (%s: %s); storing them one by one",
                       len(orders), type(exc).__name__, exc)
        stored, outcomes = _store_one_by_one(account, orders, failed)
        created |= {order.amazon_order_id for order in stored if order.just_created}
    for order in stored:
        stats["created" if order.amazon_order_id in created else "duplicates"] += 1
        outcome = outcomes.get(order.pk)
        if outcome == "held":
            stats["held"] += 1
        elif outcome in ("cancelled", "cancel queued"):
            stats["cancelled"] += 1
    stats["errors"] += len(failed)
    notified = _close_covered_reads(account, {o.amazon_order_id: o.last_update_date for o in orders
                                              if o.amazon_order_id not in failed})
    for amazon_order_id in sorted(failed):
        queue_import(account, amazon_order_id)
    new_skus = {line.sku for record in orders if record.amazon_order_id in created for line in record.lines}
    if new_skus:
        watch_demand(account, new_skus)
    return len(stored), notified


def _store_one_by_one(account, orders, failed):
    stored, outcomes = [], {}
    for amazon_order in orders:
        try:
            with transaction.atomic():
                order = upsert_order(account, amazon_order)
                outcomes[order.pk] = route(order)
        except Exception as exc:
            logger.warning("order %s cannot be stored: %s: %s", amazon_order.amazon_order_id,
                           type(exc).__name__, exc)
            failed.append(amazon_order.amazon_order_id)
            continue
        stored.append(order)
    return stored, outcomes


def _close_covered_reads(account, stored):
    """Notified reads a search page has just made needless (it stored the order as of that change or
    later) are done without running: on a busy day they would otherwise queue up beside the sends.

    Returns how many of the page's orders a notification had named (a read queued for a change at most
    NOTICE_SLACK older than the one stored, and not given up as a dead letter): how far intake can count
    on them."""
    if not stored:
        return 0
    keys = {order_key(account, order_id): order_id for order_id in stored}
    reads = (WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER, key__in=keys, payload__has_key="changed_at")
             .values_list("pk", "key", "payload", "state"))
    covered, notified = [], 0
    for pk, key, payload, state in reads:
        changed_at, stored_at = parse_datetime(payload["changed_at"]), stored[keys[key]]
        if stored_at is None:
            continue
        notified += state != WorkState.DEAD and changed_at >= stored_at - NOTICE_SLACK
        if state in (WorkState.PENDING, WorkState.RETRYING) and stored_at >= changed_at:
            covered.append(pk)
    if covered:
        WorkItem.objects.filter(pk__in=covered, state__in=[WorkState.PENDING, WorkState.RETRYING]).update(
            state=WorkState.DONE, done_at=timezone.now(), last_error="already read by search")
    return notified


def _already_stored(account, amazon_order_id, changed_at):
    stored = (Order.objects.filter(account=account, amazon_order_id=amazon_order_id)
              .values_list("last_update_date", flat=True).first())
    return stored is not None and stored >= changed_at


def _read_page(amazon, walk, name):
    """One page of the open window; an expired page token reopens the window (nothing is skipped)."""
    try:
        return amazon.search_orders_page(walk.after, walk.before, walk.token or None)
    except ConnectorError as exc:
        if not (walk.token and exc.permanent and exc.status == 400):
            raise
        logger.warning("%s: page token refused (%s); reading the window again from its start", name, exc.message)
        walk.restart()
        walk.save(name)
        return amazon.search_orders_page(walk.after)


def import_recent(account, now=None, stats=None):
    """Move intake forward by every page the quota allows now; returns the orders imported.

    With nothing left in the bucket it returns at once, its place kept for the next run.
    """
    now = now or timezone.now()
    name = f"orders:{account.pk}"
    with advisory_lock(name) as mine:
        if not mine:
            return 0  # another worker is walking this account's window right now
        return _import_pages(account, name, now, Counter() if stats is None else stats)


def _import_pages(account, name, now, stats):
    walk = Walk.load(name)
    amazon = connect.amazon(account)
    imported = 0
    while (left := amazon.limiter.tokens_left(SEARCH)) >= 1:
        if walk.after is None:
            rate, burst, _ = amazon.limiter.plan(SEARCH)
            refill_every = dt.timedelta(seconds=1 / rate)
            walk.since = walk.since or now - FIRST_IMPORT_LOOKBACK
            unread_from = _unread_notified_from(account, walk.since) if walk.leaps(refill_every) else None
            if not walk.due(now, left, refill_every, unread_from):
                break  # caught up: the next window opens when it is time (see windows.poll_gap)
            walk.open_next(now, left, burst, refill_every, unread_from, _held(account, walk.owed_from(), walk.since))
        page = _read_page(amazon, walk, name)
        stored, notified = _store(account, page.orders, stats)
        imported += stored
        walk.turn_page(page, now, notified, late=0 if page.next_token else _late_notices(account))
        walk.save(name)
        if walk.after is None:
            break  # the window is read to its end: one per run
    return imported


def _late_notices_key(account):
    return f"intake:late-notices:{account.pk}"


def _late_notices(account):
    """How many notifications came for changes the hub held already since this was last asked (a counter
    in Redis: losing it only makes the next window count fewer notified orders, the safe way)."""
    connection = shared_redis()
    with connection.pipeline() as pipe:
        late, _ = pipe.get(_late_notices_key(account)).delete(_late_notices_key(account)).execute()
    return int(late or 0)


def _notified_reads(account, **filters):
    """Notified reads (IMPORT_ORDER with the changes they cover: `changed`, `first_changed`) matching `filters`."""
    return (WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER, account=account, payload__has_key="first_changed_at")
            .annotate(changed=Cast(KT("payload__changed_at"), DateTimeField()),
                      first_changed=Cast(KT("payload__first_changed_at"), DateTimeField()))
            .filter(**filters))


def _unread_notified_from(account, since):
    """Where getOrder's reads of notified changes at or after `since` stand: the oldest such change a read
    has still to read or, with none waiting, the newest it has read (None: it has read none).

    A read given up as a dead letter is not waiting: like every span a window leaps, its order is owed a
    re-read (Walk.recheck_from) and the reconciliation's, and the dead letter is ops' to retry."""
    waiting = (_notified_reads(account, state__in=WorkState.open()).filter(changed__gte=since)
               .aggregate(first=Min("first_changed"))["first"])
    if waiting is not None:
        return waiting
    return (_notified_reads(account, state=WorkState.DONE, done_at__gte=since).filter(changed__gte=since)
            .aggregate(last=Max("changed"))["last"])


def _held(account, start, end):
    """The changes in [start, end) a re-read would page, as far as the hub knows: the orders it holds
    changed then, and the notified changes it has still to read."""
    stored = Order.objects.filter(account=account, last_update_date__gte=start, last_update_date__lt=end).count()
    return stored + _notified_reads(account, state__in=WorkState.open(), first_changed__gte=start,
                                    first_changed__lt=end).count()


def reconcile(account, now=None):
    """Re-read the last 24 hours page by page and queue IMPORT_ORDER for every order the hub lacks or
    holds older than Amazon's (a change no notification named, in a span intake leapt or owed too long).

    Resumable like intake; it reads only while the bucket holds more than RECONCILE_RESERVE
    requests, so at volume it takes longer rather than starving intake. Returns the ids queued.
    """
    now = now or timezone.now()
    name = f"orders-reconcile:{account.pk}"
    with advisory_lock(name) as mine:
        return _reconcile_pages(account, name, now) if mine else []


def _reconcile_pages(account, name, now):
    walk = Walk.load(name)
    amazon = connect.amazon(account)
    missing = []
    while amazon.limiter.tokens_left(SEARCH) >= 1 + RECONCILE_RESERVE:
        if walk.after is None:
            if walk.started_at and walk.finished_at and walk.finished_at >= walk.started_at and \
                    now - walk.started_at < RECONCILE_WINDOW / 24:
                break  # done within the hour
            walk.open(now - RECONCILE_WINDOW, now)
        page = _read_page(amazon, walk, name)
        seen = {order.amazon_order_id: order.last_update_date for order in page.orders}
        seen.update(dict.fromkeys(page.orders.unreadable))
        known = dict(Order.objects.filter(account=account, amazon_order_id__any=list(seen))
                     .values_list("amazon_order_id", "last_update_date"))
        for amazon_order_id in sorted(seen):
            changed, held = seen[amazon_order_id], known.get(amazon_order_id)
            if amazon_order_id not in known or (changed and held and held < changed):
                queue_import(account, amazon_order_id)  # missing, or changed since the hub read it
                missing.append(amazon_order_id)
        walk.turn_page(page, now)
        walk.save(name)
        if walk.after is None:
            break
    if missing:
        logger.warning("account %s: %s orders missing from the hub or out of date, import queued", account.pk,
                       len(missing))
    return missing


def intake_lag(account, now=None):
    """How far behind intake is, in seconds: the age of the oldest order change not yet read.

    The older of: the watermark (changes before it are read, or owed a re-read where a window leapt
    or cut its overlap) and the oldest import still waiting (a notified or unreadable order). About
    two minutes when caught up, since Amazon's search window ends a little before now. A change no
    notification named in a span owed is not counted: the hub cannot know of it until it is read.
    """
    now = now or timezone.now()
    walk = Walk.load(f"orders:{account.pk}")
    waiting = WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER, account=account, state__in=WorkState.open())
    # A notified read keeps the earliest change it covers; any other read (re-fetch, reconciliation) is
    # ranked when it was queued plus IMPORT_RANK.
    notified = _notified_reads(account, state__in=WorkState.open()).aggregate(first=Min("first_changed"))["first"]
    other = waiting.exclude(payload__has_key="first_changed_at").aggregate(first=Min("priority_at"))["first"]
    candidates = [moment for moment in (walk.since, notified, other and other - IMPORT_RANK) if moment]
    return max(0.0, (now - min(candidates)).total_seconds()) if candidates else None


def queue_import(account, amazon_order_id, changed_at=None, ship_by=None):
    """Queue a fresh read of one order, ranked by its ship-by like the order's other work: a notification
    names it, so on Prime Day the reads of new orders and the sends of orders already read interleave most
    urgent first (reads ranked ahead of everything starved the sends). Without it (a re-fetch) it ranks
    as if due IMPORT_RANK from now.

    `changed_at` (a notification's time of change) lets the read be skipped if a search page has
    meanwhile stored the order as of that change or later; without it (a re-fetch) it always reads. The
    earliest change still unread is kept too (`first_changed_at`), for the intake lag. On equal ship-by
    the oldest unread change is read first (WorkItem.recency, see OLDEST_FIRST): when notifications outrun
    getOrder's quota, the search leaps over what getOrder has read and pages the newest changes (see
    windows.NOTIFIED_ENOUGH), so the two seldom read the same order (an earlier ship-by, read first by
    getOrder, may be paged again).
    """
    key = order_key(account, amazon_order_id)
    payload = {}  # a plain read: always reads
    if changed_at is not None and _already_stored(account, amazon_order_id, changed_at):
        shared_redis().incr(_late_notices_key(account))  # a notification all the same (Walk.notified_share)
        return  # a search page has stored it as of this change already: nothing to read
    if changed_at is not None:
        pending = (WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER, key=key, state__in=WorkState.open())
                   .values_list("payload", flat=True).first())
        if pending is None:
            payload = {"changed_at": changed_at.isoformat(), "first_changed_at": changed_at.isoformat()}
        elif "changed_at" in pending:  # a pending read must cover the latest change notified
            payload = {"changed_at": max(changed_at.isoformat(), pending["changed_at"]),
                       "first_changed_at": min(changed_at.isoformat(),
                                               pending.get("first_changed_at", pending["changed_at"]))}
    rank = ship_by if ship_by and changed_at else timezone.now() + IMPORT_RANK
    first = parse_datetime(payload["first_changed_at"]) if payload.get("first_changed_at") else changed_at
    submit(WorkKind.IMPORT_ORDER, key, account=account, reset=True, priority_at=rank, payload=payload,
           recency=OLDEST_FIRST - int(first.timestamp() * 1000) if first else 0)


def import_order(account, amazon_order_id, changed_at=None):
    """Fetch one order from Amazon, store it and route it (IMPORT_ORDER: re-fetch, notifications, reconciliation).

    A notified change the hub already holds (a search page stored the order as of it or later) is
    not read again: at volume getOrder's quota is kept for the orders search has not read."""
    if changed_at is not None and _already_stored(account, amazon_order_id, changed_at):
        return "already read by search"
    amazon_order = connect.amazon(account).get_order(amazon_order_id)
    with transaction.atomic():  # stored and routed together (see _store)
        order = upsert_order(account, amazon_order)
        outcome = route(order)
    if order.just_created:
        watch_demand(account, {line.sku for line in amazon_order.lines})
    return outcome


def on_order_change(change):
    """An ORDER_CHANGE notification (SQS): queue a re-fetch of the order for the seller it names.

    The notification carries no buyer data and may repeat or arrive out of order, so it only
    triggers a fresh read from Amazon; the import is idempotent.
    """
    accounts = SellerAccount.objects.filter(seller_id=change.seller_id, active=True)
    if not accounts:
        logger.warning("ORDER_CHANGE %s for unknown seller %s ignored", change.notification_id, change.seller_id)
    changed_at = parse_datetime(change.changed_at) if change.changed_at else None
    ship_by = parse_datetime(change.latest_ship_date) if change.latest_ship_date else None
    for account in accounts:
        queue_import(account, change.amazon_order_id, changed_at, ship_by)


def refetch(order):
    """Queue a fresh copy of the order from Amazon (IMPORT_ORDER)."""
    queue_import(order.account, order.amazon_order_id)
    return f"Queued re-fetch of {order} from Amazon."
