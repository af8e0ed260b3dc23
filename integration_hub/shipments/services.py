"""Shipments out: confirm each recorded package on Amazon (the CONFIRM_SHIPMENT work item).

    confirm(shipment)             # one package: confirmShipment, then the order's shipped quantities
    prepare_confirms(items)       # a claimed batch: its shipments, lines and carrier maps at once

Dispatches are recorded as shipments by integration_hub.shipments.recording.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone
from redis.exceptions import RedisError

from connectors.base import ConnectorError
from integration_hub.orders import connect
from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.models import BUYER_FIELDS, Order, OrderLine, attach_accounts
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment, ShipmentLine
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import retry
from integration_hub.sync.models import WorkItem
from mappings.models import CarrierMap

logger = logging.getLogger(__name__)
# A confirmation's error when its ship method has no carrier map (the exceptions page groups by it).
NO_CARRIER_MAP = "no carrier map for "


# ---- confirming on Amazon ----------------------------------------------------------------


class Confirming:
    """What confirming some shipments reads, in three queries: the carrier maps of their ship methods
    and their lines with the order lines (a worker's batch reads it once, see prepare_confirms)."""

    def __init__(self, shipments):
        shipments = list(shipments)
        self.carriers = {}
        for carrier in CarrierMap.objects.filter(warehouse_ship_method__any={s.ship_method for s in shipments},
                                                 active=True).order_by("pk"):
            self.carriers.setdefault(carrier.warehouse_ship_method, carrier)
        self.lines = {shipment.pk: [] for shipment in shipments}
        for line in ShipmentLine.objects.select_related("order_line").filter(shipment__any=list(self.lines)):
            self.lines[line.shipment_id].append(line)

    def package(self, shipment):
        """What confirmShipment needs for one package; a ship method without a carrier map is a permanent
        error. None when the package holds only parts of packs that other packages complete: nothing to
        tell Amazon."""
        from connectors.amazon.records import PackageConfirmation

        carrier = self.carriers.get(shipment.ship_method)
        if carrier is None:
            raise ConnectorError(f"{NO_CARRIER_MAP}'{shipment.ship_method}'", permanent=True)
        lines = self.lines[shipment.pk]
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


def prepare_confirms(items):
    """A claimed batch of CONFIRM_SHIPMENT items (key = Shipment pk): the shipments with their orders and
    accounts, and what confirming them reads, in five queries."""
    shipments = {str(shipment.pk): shipment for shipment in Shipment.objects.select_related("order")
                 .defer(*(f"order__{name}" for name in BUYER_FIELDS)).filter(pk__any=[int(item.key) for item in items])}
    attach_accounts([shipment.order for shipment in shipments.values()])
    confirming = Confirming(shipments.values())
    for item in items:
        if item.key in shipments:
            item.prepared = (shipments[item.key], confirming)


def confirm_batch_size(item):
    """Confirmations claimed at once: a batch only while the account's confirmShipment bucket holds far more
    than a batch (a generous usage plan); at Amazon's default plan one at a time, so that two workers
    never take turns out of ship-by order while they wait for tokens."""
    from connectors.amazon.quotas import RateLimiter

    batch = settings.WORK_CLAIM_BATCH
    try:
        return batch if RateLimiter(item.account_id).tokens_left("confirmShipment") >= 2 * batch else 1
    except RedisError:
        return 1


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


def confirm(shipment, confirming=None):
    """Confirm one package on Amazon, then record it and bring the order's shipped quantities up to date.

    `confirming` comes prepared for a batch (prepare_confirms), or is read here."""
    if shipment.confirmation_state == ConfirmationState.CONFIRMED:
        return "already confirmed"
    order = shipment.order
    package = (confirming or Confirming([shipment])).package(shipment)
    if package is None:
        logger.info("shipment %s holds only parts of packs counted in other packages; nothing to confirm", shipment)
    else:
        connect.amazon(order.account).confirm_shipment(order.amazon_order_id, order.marketplace_id, package)
    update_shipped_quantities(order, confirming=shipment)
    return "nothing to confirm" if package is None else "confirmed"


# The order is locked first: a worker confirming another package of it, or an import cancelling it, may
# have committed while Amazon was being called, and under READ COMMITTED two unlocked recomputes each
# miss the other's package. Lock and recompute are two statements of one query string (one round trip,
# the simple query protocol of psycopg's client-side cursor): Postgres runs them as one transaction,
# each statement with its own snapshot, so the recompute, taken once the lock is held, sees the package
# the lock waited for. The lock is held to the end of that transaction (or of the caller's).
_LOCK_AND_RECOMPUTE = """
SELECT id FROM {order} WHERE id = %(order)s FOR UPDATE;
WITH mark AS (
    UPDATE {shipment} SET confirmation_state = %(confirmed)s, confirmed_at = %(now)s, last_error = ''
    WHERE id = %(shipment_id)s AND confirmation_state <> %(confirmed)s RETURNING id),
sums AS (
    SELECT line.id, line.quantity_ordered AS ordered, line.quantity_shipped AS before,
           LEAST(line.quantity_ordered, GREATEST(line.quantity_shipped, COALESCE(SUM(part.quantity) FILTER (
               WHERE package.confirmation_state = %(confirmed)s OR package.id = %(shipment_id)s), 0))) AS shipped
    FROM {line} line
    LEFT JOIN {part} part ON part.order_line_id = line.id
    LEFT JOIN {shipment} package ON package.id = part.shipment_id
    WHERE line.order_id = %(order)s GROUP BY line.id),
raised AS (
    UPDATE {line} line SET quantity_shipped = sums.shipped FROM sums
    WHERE line.id = sums.id AND sums.shipped <> sums.before RETURNING line.id),
status AS (
    SELECT CASE WHEN COALESCE(bool_and(shipped >= ordered), true) THEN %(shipped)s
                WHEN bool_or(shipped > 0) THEN %(partially)s END AS value FROM sums)
UPDATE {order} SET status = status.value FROM status
WHERE {order}.id = %(order)s AND status.value IS NOT NULL AND {order}.status <> status.value
  AND {order}.status IN (%(unshipped)s, %(partially)s)
"""


def update_shipped_quantities(order, confirming=None):
    """quantity_shipped = what the hub has confirmed (never less than before); the status follows; with
    `confirming`, that shipment is marked confirmed first. The order locked, then one statement, in one
    round trip (see _LOCK_AND_RECOMPUTE); a cancelled (or otherwise closed) order is never moved back to
    shipped.
    """
    sql = _LOCK_AND_RECOMPUTE.format(shipment=Shipment._meta.db_table, line=OrderLine._meta.db_table,
                            part=ShipmentLine._meta.db_table, order=Order._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            "confirmed": ConfirmationState.CONFIRMED, "now": now, "order": order.pk,
            "shipment_id": confirming.pk if confirming is not None else None,
            "shipped": OrderStatus.SHIPPED, "partially": OrderStatus.PARTIALLY_SHIPPED,
            "unshipped": OrderStatus.UNSHIPPED})
        if cursor.fetchone() is None:  # the lock's result comes first
            raise Order.DoesNotExist(f"order {order.pk} is gone")
    if confirming is not None and confirming.confirmation_state != ConfirmationState.CONFIRMED:
        confirming.confirmation_state, confirming.confirmed_at, confirming.last_error = (
            ConfirmationState.CONFIRMED, now, "")


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
