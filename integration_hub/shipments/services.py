"""Shipments out: record the warehouse's dispatches and confirm each package on Amazon.

    record_dispatches(connection, dispatches)   # from list_dispatches polling or the Clarus webhook
    confirm(shipment)                           # the CONFIRM_SHIPMENT work item

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

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from connectors.base import ConnectorError, Dispatch, DispatchLine, DispatchPackage
from integration_hub.orders import connect
from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.models import Order, OrderLine
from integration_hub.orders.services import urgency
from integration_hub.shipments.choices import ConfirmationState, WaitingReason
from integration_hub.shipments.models import Shipment, ShipmentLine, UnmatchedDispatch
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import retry, submit
from integration_hub.sync.models import Cursor, WorkItem
from mappings.models import CarrierMap

logger = logging.getLogger(__name__)
# A confirmation's error when its ship method has no carrier map (the exceptions page groups by it).
NO_CARRIER_MAP = "no carrier map for "

# A poll reads at most this many pages, so one run of the job stays short.
MAX_PAGES_PER_POLL = 20

UNMATCHED_KEPT_FOR = dt.timedelta(days=14)
REREAD_EVERY = dt.timedelta(minutes=2)
INCOMPLETE = (WaitingReason.NO_TRACKING, WaitingReason.NO_PACKAGES)


def record_dispatches(connection, dispatches):
    """Store each dispatch as one Shipment per tracked package and queue its confirmation; idempotent.

    Returns the shipments of the dispatches that matched an order (new and already known).
    """
    shipments = []
    orders = {}
    for order in Order.objects.filter(account__back_office=connection,
                                      amazon_order_id__in={d.amazon_order_id for d in dispatches}).order_by("-pk"):
        orders[order.amazon_order_id] = order  # lowest pk last, as .first() picked before
    for dispatch in dispatches:
        order = orders.get(dispatch.amazon_order_id)
        if order is None:
            _keep(connection, dispatch, WaitingReason.UNKNOWN_ORDER)
            continue
        shipments.extend(_record(connection, order, dispatch))
    return shipments


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
                                      amazon_order_id__in={row.amazon_order_id for row in rows}).order_by("pk"):
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
    """One Shipment per package with a tracking number; the rest of the dispatch waits (see the module).

    A package is known by (dispatch ref, tracking number), or by (package ref, tracking number) when
    the back office names its packages (a dispatch read again may be grouped under another reference).
    package_reference_id counts 1..n within the order in the order packages were first seen.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)  # serialises webhook and poller
        existing = list(order.shipments.all())
        known = {(s.dispatch_ref, s.tracking_number): s for s in existing}
        by_package = {(s.package_ref, s.tracking_number): s for s in existing if s.package_ref}
        next_reference = max((s.package_reference_id for s in existing), default=0) + 1
        lines = list(order.lines.all())
        shipments = []
        for package in dispatch.packages:
            tracking = package.tracking_number.strip()
            if not tracking:
                continue
            shipment = known.get((dispatch.dispatch_ref, tracking)) or (
                by_package.get((package.package_ref, tracking)) if package.package_ref else None)
            if shipment is None:
                shipment = Shipment.objects.create(
                    order=order, dispatch_ref=dispatch.dispatch_ref, package_reference_id=next_reference,
                    carrier=dispatch.carrier, ship_method=dispatch.ship_method, tracking_number=tracking,
                    package_ref=package.package_ref or "", shipped_at=dispatch.shipped_at,
                )
                known[(dispatch.dispatch_ref, tracking)] = shipment
                if package.package_ref:
                    by_package[(package.package_ref, tracking)] = shipment
                next_reference += 1
                _add_lines(shipment, lines, package)
            submit(WorkKind.CONFIRM_SHIPMENT, shipment.pk, account=order.account, **urgency(order))
            shipments.append(shipment)
        reason = _waiting_for(dispatch)
        if reason:
            _keep(connection, dispatch, reason)
        else:
            UnmatchedDispatch.objects.filter(connection=connection, dispatch_ref=dispatch.dispatch_ref,
                                             amazon_order_id=dispatch.amazon_order_id).delete()
    return shipments


def _add_lines(shipment, order_lines, package):
    """One ShipmentLine per order line in the package; called under the order lock (see _record)."""
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
    earlier = {row["order_line"]: (row["units"], row["quantity"]) for row in ShipmentLine.objects.filter(
        order_line__in=units).values("order_line").annotate(units=Sum("units"), quantity=Sum("quantity"))}
    for order_line, count in units.items():
        if count <= 0:
            continue
        # The warehouse counts its own units; Amazon counts packs of `pack_multiplier` of them. Converting
        # each package on its own would count a pack split over two packages twice (6-packs sent as 7 + 5
        # units: 2 + 1 packs), so whole packs are counted over the running total of the line's units, each
        # in the package that completes it, never beyond what was ordered.
        units_before, packs_before = earlier.get(order_line.pk, (0, 0))
        packs = min(order_line.quantity_ordered, (units_before + count) // order_line.pack_multiplier)
        ShipmentLine.objects.create(shipment=shipment, order_line=order_line, units=count,
                                    quantity=max(0, packs - packs_before))


# ---- confirming on Amazon ----------------------------------------------------------------


def package_confirmation(shipment):
    """What confirmShipment needs for one package; a ship method without a carrier map is a permanent error.

    None when the package holds only parts of packs that other packages complete: nothing to tell Amazon.
    """
    from connectors.amazon.records import PackageConfirmation

    carrier = CarrierMap.objects.filter(warehouse_ship_method=shipment.ship_method, active=True).first()
    if carrier is None:
        raise ConnectorError(f"{NO_CARRIER_MAP}'{shipment.ship_method}'", permanent=True)
    lines = list(shipment.lines.select_related("order_line"))
    if not lines:
        raise ConnectorError(f"shipment {shipment} has no order lines to confirm", permanent=True)
    items = [(line.order_line.order_item_id, line.quantity) for line in lines if line.quantity]
    if not items:
        return None
    return PackageConfirmation(
        package_reference_id=shipment.package_reference_id, carrier_code=carrier.carrier_code,
        carrier_name=carrier.carrier_name, shipping_method=carrier.shipping_method,
        tracking_number=shipment.tracking_number, ship_date=ship_date_for(shipment), items=items,
    )


# A ship date this far behind the hub's clock is still "now" to Amazon, whose clock may run a little slow.
CLOCK_MARGIN = dt.timedelta(seconds=60)


def ship_date_for(shipment):
    """The dispatch time to tell Amazon, within what Amazon accepts: never after now (a warehouse clock
    running fast would otherwise make the confirmation fail for good) nor before the order was placed
    (a ship date typed without a time). Amazon's own check decides nothing about lateness: the
    confirmation's arrival does."""
    shipped = shipment.shipped_at
    latest = timezone.now() - CLOCK_MARGIN
    if shipped > latest:
        shipped = max(latest, shipment.order.purchase_date or latest)
    purchased = shipment.order.purchase_date
    if purchased is not None and shipped < purchased:
        shipped = purchased
    return shipped


def confirm(shipment):
    """Confirm one package on Amazon, then record it and bring the order's shipped quantities up to date."""
    if shipment.confirmation_state == ConfirmationState.CONFIRMED:
        return "already confirmed"
    order = shipment.order
    package = package_confirmation(shipment)
    if package is None:
        logger.info("shipment %s holds only parts of packs counted in other packages; nothing to confirm", shipment)
    else:
        connect.amazon(order.account).confirm_shipment(order.amazon_order_id, order.marketplace_id, package)
    with transaction.atomic():
        # Lock the order and read it afresh: a worker confirming another package of it, or an import
        # cancelling it, may have committed while Amazon was being called, and under READ COMMITTED two
        # unlocked recomputes each miss the other's package.
        order = Order.objects.select_for_update().get(pk=order.pk)
        shipment.mark_confirmed()
        update_shipped_quantities(order)
    return "nothing to confirm" if package is None else "confirmed"


def update_shipped_quantities(order):
    """quantity_shipped = what the hub has confirmed (never less than before); the status follows.

    `order` must be the row just locked with select_for_update: its status decides, and a cancelled
    (or otherwise closed) order is never moved back to shipped.
    """
    confirmed = Q(shipment_lines__shipment__confirmation_state=ConfirmationState.CONFIRMED)
    for line in OrderLine.objects.filter(order=order).annotate(confirmed=Sum("shipment_lines__quantity",
                                                                            filter=confirmed)):
        shipped = min(line.quantity_ordered, max(line.quantity_shipped, line.confirmed or 0))
        if shipped != line.quantity_shipped:
            OrderLine.objects.filter(pk=line.pk).update(quantity_shipped=shipped)
    lines = list(OrderLine.objects.filter(order=order).values_list("quantity_ordered", "quantity_shipped"))
    if order.status in (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        if all(shipped >= ordered for ordered, shipped in lines):
            status = OrderStatus.SHIPPED
        elif any(shipped for _, shipped in lines):
            status = OrderStatus.PARTIALLY_SHIPPED
        else:
            status = order.status
        if status != order.status:
            Order.objects.filter(pk=order.pk).update(status=status)


def retry_for_ship_method(ship_method):
    """Retry the dead confirmations of packages sent with `ship_method`: its carrier map was just saved.

    All of them, not only those that died for want of a map: a corrected carrier code is also a reason.
    """
    failed = Shipment.objects.filter(ship_method=ship_method, confirmation_state=ConfirmationState.FAILED)
    keys = [str(pk) for pk in failed.values_list("pk", flat=True)]
    retried = 0
    for item in WorkItem.objects.dead().filter(kind=WorkKind.CONFIRM_SHIPMENT, key__in=keys):
        if retry(item):
            # Queued again, so no longer failed; a new failure marks it again.
            Shipment.objects.filter(pk=item.key, confirmation_state=ConfirmationState.FAILED).update(
                confirmation_state=ConfirmationState.PENDING, last_error="")
            retried += 1
    if retried:
        logger.info("carrier map for '%s' saved: %d dead confirmations retried", ship_method, retried)
    return retried


def mark_failed(item, error):
    """Dead-letter hook: the shipment shows the error until a retry lands."""
    shipment = Shipment.objects.filter(pk=item.key).first()
    if shipment is not None and shipment.confirmation_state != ConfirmationState.CONFIRMED:
        shipment.mark_failed(error)
