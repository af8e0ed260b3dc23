"""Dispatches from the back office recorded as shipments, one per tracked package, each queued for its
confirmation on Amazon (CONFIRM_SHIPMENT).

    record_dispatches(connection, dispatches)   # from list_dispatches polling or the Clarus webhook
    poll_dispatches(connection)                 # the repeating job: read new dispatches, record them

A page of dispatches is recorded in one transaction with a fixed handful of statements (the orders
locked, their shipments and lines read, new shipments and lines inserted, confirmations queued).

A dispatch that cannot be confirmed yet is kept as an UnmatchedDispatch with its reason, never
dropped in silence, and never blocks the dispatches behind it (holding the back-office cursor would):
- its order is not in the hub yet: replayed on every poll until the order is imported, for
  UNMATCHED_KEPT_FOR (the warehouse also ships web-shop and B2B orders that never will be);
- a package has no tracking number yet, or the dispatch no packages: its packages with a tracking
  number are recorded and confirmed, and the order's dispatches are read afresh from the back office
  every REREAD_EVERY until the rest has one, or the order is shipped or cancelled on Amazon.
"""

import dataclasses
import datetime as dt
import logging
from collections import defaultdict

from django.db import connection as database
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from connectors.base import ConnectorError, Dispatch, DispatchLine, DispatchPackage
from integration_hub.orders import connect
from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.models import BUYER_FIELDS, Order, OrderLine, attach_accounts
from integration_hub.orders.services import urgency
from integration_hub.shipments.choices import WaitingReason
from integration_hub.shipments.models import Shipment, ShipmentLine, UnmatchedDispatch
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import submit_many
from integration_hub.sync.models import Cursor

logger = logging.getLogger(__name__)

# A poll reads at most this many pages, so one run of the job stays short.
MAX_PAGES_PER_POLL = 20

UNMATCHED_KEPT_FOR = dt.timedelta(days=14)
REREAD_EVERY = dt.timedelta(minutes=2)
INCOMPLETE = (WaitingReason.NO_TRACKING, WaitingReason.NO_PACKAGES)


def record_dispatches(connection, dispatches):
    """Store each dispatch as one Shipment per tracked package and queue its confirmation; idempotent.

    Returns the shipments of the dispatches that matched an order (new and already known).
    """
    orders = {}
    for order in (Order.objects.filter(account__back_office=connection,
                                       amazon_order_id__any={d.amazon_order_id for d in dispatches})
                  .only("pk", "amazon_order_id").order_by("-pk")):
        orders[order.amazon_order_id] = order  # lowest pk last, as .first() picked before
    matched = []
    for dispatch in dispatches:
        order = orders.get(dispatch.amazon_order_id)
        if order is None:
            _keep(connection, dispatch, WaitingReason.UNKNOWN_ORDER)
            continue
        matched.append((order, dispatch))
    return _record_many(connection, matched)


def replay_unmatched(connection, now=None):
    """Try again the dispatches kept waiting; those that can now be recorded are, and their rows go.

    A fixed number of queries however many are waiting, plus one back-office read per order whose
    dispatch was incomplete (at most every REREAD_EVERY) and the recording of what is ready.
    """
    now = now or timezone.now()
    kept = UnmatchedDispatch.objects.filter(connection=connection)
    dropped, _ = kept.filter(reason=WaitingReason.UNKNOWN_ORDER,
                             received_at__lt=now - UNMATCHED_KEPT_FOR).delete()
    if dropped:
        logger.warning("dropped %d dispatches of %s whose order did not reach the hub within %d days",
                       dropped, connection, UNMATCHED_KEPT_FOR.days)
    rows = list(kept)
    if not rows:
        return []
    orders = {}
    for order in Order.objects.filter(account__back_office=connection,
                                      amazon_order_id__any={row.amazon_order_id for row in rows}).order_by("pk"):
        orders.setdefault(order.amazon_order_id, order)  # the first, as record_dispatches picks
    recorded, waiting, reread = [], [], {}
    for row in rows:
        order = orders.get(row.amazon_order_id)
        if order is None:
            waiting.append(row.pk)
        elif row.reason == WaitingReason.UNKNOWN_ORDER:
            with transaction.atomic():
                row.delete()  # _record keeps it again if a package is still incomplete
                recorded.extend(_record(connection, order, _dispatch_from_json(row.payload)))
        elif order.status not in (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED):
            logger.info("order %s is %s on Amazon: its dispatch %s no longer waits for %s", order,
                        order.status, row.dispatch_ref, row.get_reason_display().lower())
            row.delete()
        elif row.last_tried_at is None or row.last_tried_at <= now - REREAD_EVERY:
            reread[order.amazon_order_id] = order
    if reread:
        recorded.extend(_read_again(connection, reread, now))
    UnmatchedDispatch.objects.filter(pk__in=waiting).update(last_tried_at=now, attempts=F("attempts") + 1)
    return recorded


def _read_again(connection, orders, now):
    """Read incomplete dispatches afresh (one call per order) and record what is ready now."""
    back_office = connect.back_office(connection)
    recorded = []
    for amazon_order_id, order in orders.items():
        rows = UnmatchedDispatch.objects.filter(connection=connection, amazon_order_id=amazon_order_id,
                                                reason__in=INCOMPLETE)
        try:
            fresh = back_office.dispatches_for_order(amazon_order_id)
        except ConnectorError as exc:
            logger.warning("dispatches of %s could not be read again: %s", amazon_order_id, exc.message)
            fresh = []
        if fresh:
            rows.delete()  # what is still incomplete is kept again below, under its current reference
            for dispatch in fresh:
                recorded.extend(_record(connection, order, dispatch))
        rows.update(last_tried_at=now, attempts=F("attempts") + 1)
    return recorded


def poll_dispatches(connection):
    """Read new dispatches from a back office and record them; the cursor is saved after they are stored."""
    replay_unmatched(connection)
    cursor_name = f"dispatches:{connection.pk}"
    cursor = Cursor.read(cursor_name)
    back_office = connect.back_office(connection)
    count = 0
    for _ in range(MAX_PAGES_PER_POLL):
        page = back_office.list_dispatches(cursor)
        record_dispatches(connection, page.dispatches)
        count += len(page.dispatches)
        if page.cursor == cursor or not page.dispatches:
            Cursor.write(cursor_name, page.cursor)
            break
        cursor = page.cursor
        Cursor.write(cursor_name, cursor)
    return count


def _keep(connection, dispatch, reason):
    if reason == WaitingReason.UNKNOWN_ORDER:
        logger.warning("dispatch %s is for order %s, which the hub does not know; kept for a later retry",
                       dispatch.dispatch_ref, dispatch.amazon_order_id)
    else:
        logger.warning("dispatch %s of order %s: %s; read again until it has", dispatch.dispatch_ref,
                       dispatch.amazon_order_id, WaitingReason(reason).label.lower())
    UnmatchedDispatch.objects.update_or_create(
        connection=connection, dispatch_ref=dispatch.dispatch_ref, amazon_order_id=dispatch.amazon_order_id,
        defaults={"payload": _dispatch_to_json(dispatch), "reason": reason},
        create_defaults={"payload": _dispatch_to_json(dispatch), "reason": reason,
                         "last_tried_at": timezone.now() if reason in INCOMPLETE else None},
    )


def _waiting_for(dispatch):
    """Why a dispatch cannot be wholly confirmed yet, or None."""
    if not dispatch.packages:
        return WaitingReason.NO_PACKAGES
    if any(not package.tracking_number.strip() for package in dispatch.packages):
        return WaitingReason.NO_TRACKING
    return None


def _dispatch_to_json(dispatch):
    data = dataclasses.asdict(dispatch)
    data["shipped_at"] = dispatch.shipped_at.isoformat()
    return data


def _dispatch_from_json(data):
    packages = [DispatchPackage(package_ref=p["package_ref"], tracking_number=p["tracking_number"],
                                lines=[DispatchLine(**line) for line in p["lines"]]) for p in data["packages"]]
    return Dispatch(**{**data, "shipped_at": dt.datetime.fromisoformat(data["shipped_at"]), "packages": packages})


def _record(connection, order, dispatch):
    return _record_many(connection, [(order, dispatch)])


def _record_many(connection, matched):
    """Record (order, dispatch) pairs, in the order given: one Shipment per package with a tracking
    number; the rest of a dispatch waits (see the module). Returns the shipments, new and known.

    A package is known by (dispatch ref, tracking number), or by (package ref, tracking number) when
    the back office names its packages (a dispatch read again may be grouped under another reference).
    package_reference_id counts 1..n within the order in the order packages were first seen. The
    orders are locked (in pk order), which serialises the webhook and the poller.
    """
    if not matched:
        return []
    with transaction.atomic():
        pks = sorted({order.pk for order, _ in matched})
        orders = {order.pk: order for order in attach_accounts(list(
            Order.objects.select_for_update().defer(*BUYER_FIELDS).filter(pk__any=pks).order_by("pk")))}
        book = _Book(pks)
        shipments, new, done, waiting = [], [], [], []
        for stale, dispatch in matched:
            order = orders[stale.pk]
            for package in dispatch.packages:
                tracking = package.tracking_number.strip()
                if not tracking:
                    continue
                shipment = book.find(order, dispatch, package, tracking)
                if shipment is None:
                    shipment = book.add(order, dispatch, package, tracking)
                    new.append((shipment, package))
                shipments.append(shipment)
            reason = _waiting_for(dispatch)
            (waiting if reason else done).append((dispatch, reason))
        Shipment.objects.bulk_create([shipment for shipment, _ in new])
        ShipmentLine.objects.bulk_create([line for shipment, package in new
                                          for line in book.lines_for(shipment, package)])
        submit_many(WorkKind.CONFIRM_SHIPMENT, [
            {"key": shipment.pk, "account": orders[shipment.order_id].account, **urgency(orders[shipment.order_id])}
            for shipment in dict.fromkeys(shipments)])
        for dispatch, reason in waiting:
            _keep(connection, dispatch, reason)
        _forget_kept(connection, [dispatch for dispatch, _ in done])
    return shipments


def _forget_kept(connection, dispatches):
    """Delete the kept (waiting) copies of dispatches now recorded in full: one statement with two arrays
    however many there are (OR-ing a Q per dispatch cost time growing with the square of a poll's page)."""
    if dispatches:
        with database.cursor() as cursor:
            cursor.execute(f"DELETE FROM {UnmatchedDispatch._meta.db_table} WHERE connection_id = %s AND "
                           "(dispatch_ref, amazon_order_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                           [connection.pk, [dispatch.dispatch_ref for dispatch in dispatches],
                            [dispatch.amazon_order_id for dispatch in dispatches]])


class _Book:
    """The shipments and lines of the orders being recorded, read once and kept up to date as packages
    are added (under the orders' locks)."""

    def __init__(self, order_pks):
        self.known, self.by_package, self.next_reference = {}, {}, defaultdict(lambda: 1)
        for shipment in Shipment.objects.filter(order__any=order_pks):
            self._note(shipment)
        self.lines = defaultdict(list)
        for line in OrderLine.objects.filter(order__any=order_pks):
            self.lines[line.order_id].append(line)
        # order line -> [warehouse units, Amazon quantity] already in packages
        self.counted = defaultdict(lambda: [0, 0])
        for row in (ShipmentLine.objects.filter(order_line__order__any=order_pks).values("order_line")
                    .annotate(units=Sum("units"), quantity=Sum("quantity"))):
            self.counted[row["order_line"]] = [row["units"], row["quantity"]]

    def _note(self, shipment):
        self.known[shipment.order_id, shipment.dispatch_ref, shipment.tracking_number] = shipment
        if shipment.package_ref:
            self.by_package[shipment.order_id, shipment.package_ref, shipment.tracking_number] = shipment
        self.next_reference[shipment.order_id] = max(self.next_reference[shipment.order_id],
                                                     shipment.package_reference_id + 1)

    def find(self, order, dispatch, package, tracking):
        return self.known.get((order.pk, dispatch.dispatch_ref, tracking)) or (
            self.by_package.get((order.pk, package.package_ref, tracking)) if package.package_ref else None)

    def add(self, order, dispatch, package, tracking):
        shipment = Shipment(order=order, dispatch_ref=dispatch.dispatch_ref,
                            package_reference_id=self.next_reference[order.pk], carrier=dispatch.carrier,
                            ship_method=dispatch.ship_method, tracking_number=tracking,
                            package_ref=package.package_ref or "", shipped_at=dispatch.shipped_at)
        self._note(shipment)
        return shipment

    def lines_for(self, shipment, package):
        """One ShipmentLine per order line in the package (the shipment is saved: it has its pk)."""
        order_lines = self.lines[shipment.order_id]
        by_item_id = {line.order_item_id: line for line in order_lines}
        by_item_code = {line.item_code: line for line in order_lines if line.item_code}
        units = {}  # order line -> warehouse units in this package
        for dispatched in package.lines:
            order_line = by_item_id.get(dispatched.line_ref) or by_item_code.get(dispatched.item_code)
            if order_line is None:
                logger.error("shipment %s: dispatch line %s / %s matches no line of order %s", shipment.pk,
                             dispatched.line_ref, dispatched.item_code, shipment.order.amazon_order_id)
                continue
            # One order line can come in several dispatch lines (picked from two bins or lots): add them up.
            units[order_line] = units.get(order_line, 0) + dispatched.quantity
        rows = []
        for order_line, count in units.items():
            if count <= 0:
                continue
            # The warehouse counts its own units; Amazon counts packs of `pack_multiplier` of them. Converting
            # each package on its own would count a pack split over two packages twice (6-packs sent as 7 + 5
            # units: 2 + 1 packs), so whole packs are counted over the running total of the line's units, each
            # in the package that completes it, never beyond what was ordered.
            counted = self.counted[order_line.pk]
            packs = min(order_line.quantity_ordered, (counted[0] + count) // order_line.pack_multiplier)
            quantity = max(0, packs - counted[1])
            counted[0] += count
            counted[1] += quantity
            rows.append(ShipmentLine(shipment=shipment, order_line=order_line, units=count, quantity=quantity))
        return rows
