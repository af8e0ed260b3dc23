"""Amazon's order records stored in the hub: a search page of a hundred at once, or one re-read order.

    orders = store_orders(account, amazon_orders)  # idempotent; prices kept exactly
    order = upsert_order(account, amazon_order)     # the same for one record

Each stored Order says what happened to it: `just_created`, or `changed` (Amazon's copy was newer than
the hub's, or as new and different). A copy with the hub's LastUpdateDate and the same fields is the
same record re-read in an overlap and changes nothing; an older copy never changes anything. New
orders of a page are written with one INSERT per table; an order that changed is updated on its own.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from integration_hub.orders.choices import HubState, OrderStatus, status_from_amazon
from integration_hub.orders.models import Address, Order, OrderLine

logger = logging.getLogger(__name__)

ADDRESS_FIELDS = ("name", "company", "line1", "line2", "line3", "city", "county", "postcode", "country_code", "phone")
LINE_AMOUNTS = ("item_price", "item_tax", "shipping_price", "shipping_tax", "promotion_discount")
# Statuses in which Amazon expects the seller to ship: only these go to the warehouse.
SENDABLE = (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
# Concurrent creators (a notified read beside a search page) lose the race at most this often per call.
CREATE_TRIES = 3


def _status(amazon_order):
    if isinstance(amazon_order.status, OrderStatus):
        return amazon_order.status
    return status_from_amazon(amazon_order.raw_status)


def _order_fields(amazon_order):
    return {
        "marketplace_id": amazon_order.marketplace_id,
        "status": _status(amazon_order),
        "amazon_status": amazon_order.raw_status,
        "fulfillment_channel": amazon_order.fulfillment_channel,
        "ship_service_level": amazon_order.ship_service_level or "",
        "is_prime": amazon_order.is_prime,
        "is_business": amazon_order.is_business,
        "purchase_date": amazon_order.purchase_date,
        "last_update_date": amazon_order.last_update_date,
        "earliest_ship_date": amazon_order.earliest_ship_date,
        "latest_ship_date": amazon_order.latest_ship_date,
        "latest_delivery_date": amazon_order.latest_delivery_date,
        "currency": amazon_order.currency or "",
        "order_total": amazon_order.order_total,
    }


def upsert_order(account, amazon_order):
    """Create or update one Order, its Address and its OrderLines from Amazon's record; return the order."""
    return store_orders(account, [amazon_order])[0]


def store_orders(account, amazon_orders):
    """Create or update the orders of Amazon's records in one transaction; return them in the records' order.

    Safe under concurrency: existing rows are locked (in pk order, as shipments.recording locks them, so
    two pages cannot deadlock), and
    the (account, amazon_order_id) constraint decides who creates an order: the loser updates it. An
    older copy of an order (earlier LastUpdateDate) never overwrites a newer one.
    """
    newest = {}
    for record in amazon_orders:  # a page may repeat an order: its newest copy counts
        known = newest.get(record.amazon_order_id)
        if known is None or record.last_update_date > known.last_update_date:
            newest[record.amazon_order_id] = record
    with transaction.atomic():
        for _ in range(CREATE_TRIES):
            existing = _locked_orders(account, newest)
            created = _create(account, [record for order_id, record in newest.items() if order_id not in existing])
            if created is not None:
                break
        else:
            raise IntegrityError(f"orders of account {account.pk} kept being created by another worker")
        for order_id, order in existing.items():
            _update(order, newest[order_id])
    stored = {**existing, **{order.amazon_order_id: order for order in created}}
    return [stored[record.amazon_order_id] for record in amazon_orders]


def _locked_orders(account, order_ids):
    rows = (Order.objects.select_for_update().filter(account=account, amazon_order_id__any=order_ids)
            .order_by("pk"))  # pk order, as everything else that locks several orders (no deadlock)
    found = {}
    for order in rows:
        order.account = account  # known: not read again per order
        found[order.amazon_order_id] = order
    return found


def _create(account, records):
    """INSERT the new orders with their addresses and lines; None if another worker created one first."""
    if not records:
        return []
    orders = []
    for record in records:
        order = Order(account=account, amazon_order_id=record.amazon_order_id, buyer_name=record.buyer_name or "",
                      buyer_email=record.buyer_email or "", **_order_fields(record))
        _note_cancel_request(order, record)
        order.just_created, order.changed = True, True  # intake tells stock about new demand
        orders.append(order)
    try:
        with transaction.atomic():
            Order.objects.bulk_create(orders)
    except IntegrityError:
        return None  # its transaction has committed by now: lock and update it instead
    Address.objects.bulk_create([_address(order, record.address) for order, record in zip(orders, records)
                                 if record.address is not None])
    OrderLine.objects.bulk_create([_line(OrderLine(order=order, order_item_id=amazon_line.order_item_id), amazon_line)
                                   for order, record in zip(orders, records) for amazon_line in record.lines])
    return orders


def _update(order, record):
    order.just_created = False
    order.changed = record.last_update_date > order.last_update_date or (
        record.last_update_date == order.last_update_date and _differs(order, record))
    if not order.changed:
        if record.last_update_date < order.last_update_date:
            logger.info("order %s: ignoring an older copy from Amazon", order.amazon_order_id)
        return
    for name, value in _order_fields(record).items():
        setattr(order, name, value)
    _note_cancel_request(order, record)
    if order.pii_erased_at is None:  # erased buyer data is never brought back
        order.buyer_name = record.buyer_name or order.buyer_name
        order.buyer_email = record.buyer_email or order.buyer_email
        if record.address is not None:  # Pending orders carry no address yet
            values = _address(order, record.address)
            Address.objects.update_or_create(order=order, defaults={name: getattr(values, name)
                                                                    for name in ADDRESS_FIELDS})
    order.save()
    existing = {line.order_item_id: line for line in order.lines.all()}
    for amazon_line in record.lines:
        line = existing.get(amazon_line.order_item_id) or OrderLine(order=order,
                                                                    order_item_id=amazon_line.order_item_id)
        _line(line, amazon_line).save()


def _differs(order, record):
    """Whether a copy with the same LastUpdateDate says something else: Amazon's dates have whole seconds,
    so an order placed and cancelled within one second has two copies with the same date."""
    fields = {**_order_fields(record), "buyer_cancel_reason": record.buyer_cancel_reason or ""}
    return any(getattr(order, name) != value for name, value in fields.items())


def _note_cancel_request(order, record):
    """Keep the buyer's cancellation request; an order not yet in the warehouse is held for ops to decide."""
    newly_asked = record.buyer_cancel_reason and not order.buyer_cancel_reason
    order.buyer_cancel_reason = record.buyer_cancel_reason
    if newly_asked and order.hub_state == HubState.RECEIVED and order.status in SENDABLE:
        order.hub_state, order.held_at = HubState.HELD, timezone.now()
        order.hold_reason = (f"the buyer asked to cancel ({order.buyer_cancel_reason}): cancel the order in "
                             "Seller Central, or release it to ship")


def _address(order, address):
    return Address(order=order, **{name: (getattr(address, name, "") or "") for name in ADDRESS_FIELDS})


def _line(line, amazon_line):
    line.sku = amazon_line.sku
    line.asin = amazon_line.asin or ""
    line.title = (amazon_line.title or "")[:500]
    line.quantity_ordered = amazon_line.quantity_ordered
    # The hub's own confirmations may be ahead of Amazon's count; never go backwards or past the order.
    shipped = max(line.quantity_shipped or 0, amazon_line.quantity_shipped or 0)
    line.quantity_shipped = min(line.quantity_ordered, shipped)
    for name in LINE_AMOUNTS:
        value = getattr(amazon_line, name)
        setattr(line, name, value if value is not None else Decimal("0"))
    return line
