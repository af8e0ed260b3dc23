"""Orders in: store Amazon orders, decide whether each may go to the back office, and send it.

    order = upsert_order(account, amazon_order)   # idempotent; prices kept exactly
    route(order)                                  # hold, wait, cancel, or queue SEND_ORDER

Network calls (Amazon, back office) are made outside any database transaction.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import Address as SalesAddress
from connectors.base import ConnectorError, NotInBackOffice, SalesOrder, SalesOrderLine
from integration_hub.orders import connect
from integration_hub.orders.choices import HubState, OrderStatus, status_from_amazon
from integration_hub.orders.models import (
    CANCELLED_THERE,
    DISPATCHED_THERE,
    LOST_STATUSES,
    NOT_FOUND,
    Address,
    Order,
    OrderLine,
)
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import submit
from integration_hub.sync.models import WorkItem
from mappings.models import CustomFieldMap, OrderStatusMap, ShipLevelMap, SkuLink

logger = logging.getLogger(__name__)

# Statuses in which Amazon expects the seller to ship: only these go to the warehouse.
SENDABLE = (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
# Statuses in which payment is not yet authorised: the order waits, it is neither held nor sent.
WAITING = (OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY)
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "line3", "city", "county", "postcode", "country_code", "phone")
LINE_AMOUNTS = ("item_price", "item_tax", "shipping_price", "shipping_tax", "promotion_discount")
UNIT_PRICE_PLACES = Decimal("0.0001")


def order_key(account, amazon_order_id):
    """The work-item key for IMPORT_ORDER, SEND_ORDER and CANCEL_ORDER."""
    return f"{account.pk}:{amazon_order_id}"


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
    """Create or update the Order, its Address and its OrderLines from Amazon's record; return the order.

    Safe under concurrency: the (account, amazon_order_id) constraint decides who creates it, the
    loser updates. An older copy of the order (earlier LastUpdateDate) never overwrites a newer one.
    """
    fields = _order_fields(amazon_order)
    with transaction.atomic():
        order = _locked_order(account, amazon_order.amazon_order_id)
        if order is None:
            try:
                with transaction.atomic():
                    order = Order.objects.create(account=account, amazon_order_id=amazon_order.amazon_order_id,
                                                 buyer_name=amazon_order.buyer_name or "",
                                                 buyer_email=amazon_order.buyer_email or "", **fields)
                order.just_created = True  # intake tells stock about new demand
            except IntegrityError:  # another worker stored it first: update theirs
                order = _locked_order(account, amazon_order.amazon_order_id)
        elif order.last_update_date > amazon_order.last_update_date:
            logger.info("order %s: ignoring an older copy from Amazon", order.amazon_order_id)
            return order
        newly_asked = amazon_order.buyer_cancel_reason and not order.buyer_cancel_reason
        order.buyer_cancel_reason = amazon_order.buyer_cancel_reason
        for name, value in fields.items():
            setattr(order, name, value)
        if order.pii_erased_at is None:  # erased buyer data is never brought back
            order.buyer_name = amazon_order.buyer_name or order.buyer_name
            order.buyer_email = amazon_order.buyer_email or order.buyer_email
            _store_address(order, amazon_order.address)
        if newly_asked and order.hub_state == HubState.RECEIVED and order.status in SENDABLE:
            # Not in the warehouse yet: keep it off the floor until ops decide (cancel or ship).
            order.hub_state, order.held_at = HubState.HELD, timezone.now()
            order.hold_reason = (f"the buyer asked to cancel ({order.buyer_cancel_reason}): cancel the order in "
                                 "Seller Central, or release it to ship")
        order.save()
        _store_lines(order, amazon_order.lines)
    return order


def _locked_order(account, amazon_order_id):
    return Order.objects.select_for_update().filter(account=account, amazon_order_id=amazon_order_id).first()


def _store_address(order, address):
    if address is None:  # Pending orders carry no address yet
        return
    values = {name: (getattr(address, name, "") or "") for name in ADDRESS_FIELDS}
    Address.objects.update_or_create(order=order, defaults=values)


def _store_lines(order, amazon_lines):
    existing = {line.order_item_id: line for line in order.lines.all()}
    for amazon_line in amazon_lines:
        line = existing.get(amazon_line.order_item_id)
        if line is None:
            line = OrderLine(order=order, order_item_id=amazon_line.order_item_id)
        line.sku = amazon_line.sku
        line.asin = amazon_line.asin or ""
        line.title = (amazon_line.title or "")[:500]
        line.quantity_ordered = amazon_line.quantity_ordered
        # The hub's own confirmations may be ahead of Amazon's count; never go backwards or past the order.
        shipped = max(line.quantity_shipped, amazon_line.quantity_shipped or 0)
        line.quantity_shipped = min(line.quantity_ordered, shipped)
        for name in LINE_AMOUNTS:
            value = getattr(amazon_line, name)
            setattr(line, name, value if value is not None else Decimal("0"))
        line.save()


# ---- validation and routing --------------------------------------------------------------


def problems(order):
    """Why the order cannot go to the back office yet, as one readable reason ("" if it can)."""
    reasons = []
    links = order_links(order)
    for line in order.lines.all():
        if line.sku not in links:
            reasons.append(f"SKU '{line.sku}' (order item {line.order_item_id}) has no active SKU link")
    if not order.lines.exists():
        reasons.append("the order has no lines")
    if ship_level_map(order) is None:
        reasons.append(f"ship service level '{order.ship_service_level}' has no ship-level map"
                       f" for marketplace {order.marketplace_id}{' (Prime)' if order.is_prime else ''}")
    return "; ".join(reasons)


def order_links(order):
    """{SellerSKU: its active SKU link} for the order's lines (SKUs with no link are absent)."""
    skus = order.lines.values_list("sku", flat=True)
    return {link.seller_sku: link for link in SkuLink.objects.filter(account=order.account_id, seller_sku__in=skus,
                                                                    active=True)}


def ship_level_map(order):
    """The ship-level map that applies to the order, or None."""
    return ShipLevelMap.resolve(order.ship_service_level, order.marketplace_id, order.is_prime)


def route(order):
    """Take the next step for a stored order. Returns what was done, for logs and tests."""
    if order.hub_state == HubState.CANCELLED:
        return "cancelled"
    if order.status == OrderStatus.CANCELLED:
        if order.cancel_unless_in_back_office():
            return "cancelled"
        # Sent, or held with a back-office reference: only the back office can stop the warehouse.
        _queue_cancel(order)
        return "cancel queued"
    if order.fulfillment_channel != "MFN":
        return "fulfilled by Amazon"  # FBA orders never go to the warehouse
    if order.hub_state in (HubState.SENT, HubState.HELD):
        return order.hub_state  # a held order waits for ops; a sent one for its dispatch
    if order.status in WAITING:
        return "waiting for payment"
    if order.status not in SENDABLE:
        return f"not sendable ({order.status})"
    reason = problems(order)
    if reason:
        order.hold(reason, for_mapping=True)
        logger.info("order %s held: %s", order.amazon_order_id, reason)
        return "held"
    submit(WorkKind.SEND_ORDER, order_key(order.account, order.amazon_order_id), account=order.account,
           reset=True, **urgency(order))
    return "send queued"


def urgency(order):
    """How urgent the order's work is: its ship-by, Prime first on ties (see WorkItem.URGENCY)."""
    return {"priority_at": order.latest_ship_date, "is_prime": order.is_prime}


# ---- ops actions (pages and API): each returns the message shown to the user -------------


def hold(order, reason):
    """Ops hold an order that has not gone to the back office yet."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("a hold needs a reason")
    order.hold(f"ops: {reason}")
    return f"Held {order}: {reason}"


def release(order):
    """Ops release a held order: it is validated again and stays held, with the new reason, if still bad."""
    order.release()
    result = route(order)
    order.refresh_from_db()
    if order.hub_state == HubState.HELD:
        return f"{order} is still held: {order.hold_reason}"
    if result == "send queued":
        return f"Queued {order} for sending to the back office."
    return f"Released {order} ({result})."


def recheck_held(account_id=None):
    """Validate again the orders held for a missing mapping (of one account, or all) and send those
    that pass: run when ops save a SKU link or ship-level map. Returns how many were released."""
    held = Order.objects.held().filter(held_for_mapping=True).select_related("account")
    if account_id is not None:
        held = held.filter(account_id=account_id)
    released = 0
    for order in held.order_by(F("latest_ship_date").asc(nulls_last=True)).iterator(chunk_size=200):
        reason = problems(order)
        if reason:
            if reason != order.hold_reason:
                Order.objects.filter(pk=order.pk, hub_state=HubState.HELD).update(hold_reason=reason)
            continue
        try:
            order.release()
        except ValidationError:  # released or sent meanwhile
            continue
        route(order)
        released += 1
    if released:
        logger.info("%d held orders passed validation after a mapping change and were released", released)
    return released


# ---- sending to the back office ----------------------------------------------------------


def build_sales_order(order):
    """The canonical SalesOrder for the back office; item codes and pack multipliers are stored on the lines."""
    links = order_links(order)
    ship_level = ship_level_map(order)
    lines = []
    for line in order.lines.all():
        link = links[line.sku]
        quantity = line.quantity_ordered * link.pack_multiplier
        net = line.item_price - line.promotion_discount  # ItemPrice is the line total (unit price x quantity)
        lines.append(SalesOrderLine(
            line_ref=line.order_item_id, item_code=link.item_code, quantity=quantity,
            unit_price=(net / quantity).quantize(UNIT_PRICE_PLACES), description=line.title[:200],
        ))
        OrderLine.objects.filter(pk=line.pk).update(item_code=link.item_code, pack_multiplier=link.pack_multiplier)
    Order.objects.filter(pk=order.pk).update(ship_method=ship_level.warehouse_ship_method)
    address = getattr(order, "address", None)
    return SalesOrder(
        amazon_order_id=order.amazon_order_id,
        order_date=order.purchase_date,
        ship_by=order.latest_ship_date,
        ship_method=ship_level.warehouse_ship_method,
        currency=order.currency,
        address=SalesAddress(email=order.buyer_email, **{name: getattr(address, name, "") for name in ADDRESS_FIELDS}),
        lines=lines,
        is_prime=order.is_prime,
        custom_fields=custom_fields(order),
    )


def custom_fields(order):
    """Amazon order fields copied into back-office user fields, per the CustomFieldMap of its back office."""
    values = {}
    for rule in CustomFieldMap.objects.filter(back_office_kind=order.account.back_office.kind):
        value = getattr(order, rule.amazon_field)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        values[rule.back_office_field] = "" if value is None else str(value)
    return values


def send_order(order):
    """Create the order in the back office (at most once: the back office is idempotent on the Amazon id)."""
    if (order.hub_state == HubState.RECEIVED and order.send_attempted_at and order.status not in SENDABLE
            and order.status not in (*WAITING, OrderStatus.CANCELLED)):
        return _settle_tried_create(order)
    if order.hub_state != HubState.RECEIVED or order.fulfillment_channel != "MFN" or order.status not in SENDABLE:
        return f"not sent: {order.hub_state}, {order.status}"
    reason = problems(order)  # mappings may have changed since the order was queued
    if reason:
        order.hold(reason, for_mapping=True)
        return "held"
    if order.account.back_office is None:
        order.hold("the seller account has no back office connection")
        return "held"
    sales_order = build_sales_order(order)
    if not order.begin_send():  # held or cancelled meanwhile: not sent
        return "not sent: changed while being prepared"
    reference = connect.back_office(order.account.back_office).create_sales_order(sales_order)
    order.mark_sent(reference)  # keeps the reference whatever happened while the create was in flight
    if order.status == OrderStatus.CANCELLED:
        # Amazon cancelled it while the create was in flight: it is in the back office now all the same.
        _queue_cancel(order)
        logger.warning("order %s was cancelled while being sent; cancelling %s in the back office",
                       order.amazon_order_id, reference)
        return "cancelled while sending"
    if order.hub_state == HubState.HELD:
        # Ops held it while the create was in flight: the hold stands, the reference is kept.
        logger.warning("order %s was held while being sent; it is in the back office as %s",
                       order.amazon_order_id, reference)
        return "held while sending"
    logger.info("order %s sent to the back office as %s", order.amazon_order_id, reference)
    return "sent"


def _settle_tried_create(order):
    """An earlier create of this order may have landed (its reply was lost, or SL had not imported it
    yet) and the order has since shipped on Amazon: record the sales order if the back office has it,
    never create one now (that would ship it twice). A create still queued there is waited for."""
    reference = connect.back_office(order.account.back_office).find_sales_order(order.amazon_order_id)
    if reference is None:
        return f"not sent: {order.status} on Amazon, and the create tried earlier never landed"
    order.mark_sent(reference)
    logger.info("order %s: the create tried earlier had landed as %s", order.amazon_order_id, reference)
    return "sent (an earlier create had landed)"


def _queue_cancel(order):
    submit(WorkKind.CANCEL_ORDER, order_key(order.account, order.amazon_order_id), account=order.account,
           **urgency(order))


def cancel_in_back_office(order):
    """Cancel in the back office an order Amazon cancelled after a create was tried (it may be there).

    A create still in flight makes the cancel wait for it; "no such order, none on its way" means
    the create never landed. A refusal (picked, shipped) is kept on the order and ends as a dead
    letter: someone must stop the parcel.
    """
    if order.hub_state == HubState.CANCELLED:
        return "already cancelled"
    sending = WorkItem.objects.filter(kind=WorkKind.SEND_ORDER, key=order_key(order.account, order.amazon_order_id),
                                      state=WorkState.RUNNING)
    if sending.exists():
        raise ConnectorError(f"order {order}: a create is in flight; the cancellation waits for it", permanent=False)
    try:
        connect.back_office(order.account.back_office).cancel_sales_order(order.amazon_order_id)
    except NotInBackOffice:
        order.mark_cancelled()
        return "cancelled (it never reached the back office)"
    order.mark_cancelled()
    return "cancelled"


def refuse_cancel(order, error):
    """Dead-letter hook of CANCEL_ORDER: keep the back office's refusal on the order, for the dashboard."""
    Order.objects.filter(pk=order.pk).update(cancel_refused=error[:2000])
    logger.error("order %s: Amazon cancelled it but the back office refused to: %s", order.amazon_order_id, error)


# ---- buyer data --------------------------------------------------------------------------


def purge_pii(now=None):
    """Erase buyer name, email and address of orders past the retention period; keep ids, SKUs and amounts."""
    now = now or timezone.now()
    ids = list(Order.objects.pii_expired(now).values_list("pk", flat=True)[:10000])
    with transaction.atomic():
        Address.objects.filter(order__in=ids).update(**{name: "" for name in ADDRESS_FIELDS})
        Order.objects.filter(pk__in=ids).update(buyer_name="", buyer_email="", pii_erased_at=now)
    return len(ids)


# ---- watching the back office ------------------------------------------------------------
# Orders whose ship-by falls within this window are checked; later ones can wait for the next run.
WATCH_WINDOW = dt.timedelta(hours=24)
WATCH_LIMIT = 500  # per account and run, most urgent first: the status call is one request per order


def watch_back_office(account, now=None):
    """Read the back office's own status of sent, undispatched orders due soon, and keep it on the order.

    A warehouse that cancelled or lost an order will never dispatch it: the dashboard lists those
    (`Order.objects.lost_in_back_office()`) while there is still time to act. The status word is
    translated through the OrderStatusMap where ops have mapped it.
    """
    due = (Order.objects.awaiting_dispatch()
           .filter(account=account, hub_state=HubState.SENT, shipments__isnull=True,
                   latest_ship_date__lt=(now or timezone.now()) + WATCH_WINDOW)
           .order_by("latest_ship_date")[:WATCH_LIMIT])
    orders = list(due)
    if not orders:
        return 0
    back_office = connect.back_office(account.back_office)
    hub_status = dict(OrderStatusMap.objects.filter(back_office_kind=account.back_office.kind)
                      .values_list("back_office_status", "hub_status"))
    for order in orders:
        status = back_office.get_sales_order_status(order.amazon_order_id)
        if status is None:
            word = NOT_FOUND
        elif status.cancelled or hub_status.get(status.status) == OrderStatus.CANCELLED:
            word = CANCELLED_THERE
        elif status.dispatched:
            word = DISPATCHED_THERE
        else:
            word = status.status[:40]
        if word != order.back_office_status:
            Order.objects.filter(pk=order.pk).update(back_office_status=word)
            if word in LOST_STATUSES:
                logger.warning("order %s: the back office reports %s, but Amazon expects a shipment",
                               order.amazon_order_id, word)
            elif word == DISPATCHED_THERE:
                logger.warning("order %s: dispatched in the back office, but no shipment reached the hub",
                               order.amazon_order_id)
    return len(orders)
