"""Sending orders to the back office (SEND_ORDER), one at a time or a worker's batch prepared at once.

    send_order(order)             # validate again, build the SalesOrder, create it at most once
    prepare_sends(items)          # a claimed batch: its orders and all they read, in a few queries

Network calls are made outside any database transaction.
"""

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError

from connectors.base import Address as SalesAddress
from connectors.base import ConnectorError, SalesOrder, SalesOrderLine
from integration_hub.orders import connect, services
from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.orders.models import Order, attach_accounts
from integration_hub.orders.store import ADDRESS_FIELDS, SENDABLE
from integration_hub.orders.validation import Mappings
from mappings.models import CustomFieldMap

logger = logging.getLogger(__name__)

UNIT_PRICE_PLACES = Decimal("0.0001")


def orders_for(items):
    """The orders of SEND_ORDER / CANCEL_ORDER items (key "<account pk>:<order id>"), with their account,
    back office and address, in two queries: {item pk: order}."""
    wanted = {item.pk: tuple(item.key.split(":", 1)) for item in items}
    by_key = {}
    accounts = {int(account) for account, _ in wanted.values()}
    orders = attach_accounts(list(Order.objects.select_related("address").filter(
        account__in=accounts, amazon_order_id__any={order_id for _, order_id in wanted.values()})))
    for order in orders:
        by_key[str(order.account_id), order.amazon_order_id] = order
    return {pk: by_key[key] for pk, key in wanted.items() if key in by_key}


def prepare_sends(items):
    """Load a batch's orders and what sending them reads (lines, links, ship-level maps, custom fields),
    and let each back office look for the batch's existing sales orders at once (prepare_creates)."""
    orders = orders_for(items)
    mappings = Mappings(orders.values())
    rules = CustomFields()
    for item in items:
        if item.pk in orders:
            item.prepared = (orders[item.pk], mappings, rules)
    by_back_office = {}
    for order in orders.values():
        if order.account.back_office is not None and order.hub_state == HubState.RECEIVED:
            by_back_office.setdefault(order.account.back_office.pk, (order.account.back_office, []))[1].append(
                order.amazon_order_id)
    for back_office, amazon_order_ids in by_back_office.values():  # even one: what an earlier batch read
        try:                                                       # ahead is dropped, never trusted later
            connect.back_office(back_office).prepare_creates(amazon_order_ids)
        except ConnectorError as exc:  # each create looks for itself, and fails or waits on its own
            logger.warning("%s: could not look for %d orders at once: %s", back_office, len(amazon_order_ids),
                           exc.message)


class CustomFields:
    """The CustomFieldMap rules per back-office kind, read once per batch."""

    def __init__(self):
        self._rules = {}
        for rule in CustomFieldMap.objects.all():
            self._rules.setdefault(rule.back_office_kind, []).append(rule)

    def values(self, order):
        """Amazon order fields copied into back-office user fields, per the rules of its back office."""
        values = {}
        for rule in self._rules.get(order.account.back_office.kind, []):
            value = getattr(order, rule.amazon_field)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            values[rule.back_office_field] = "" if value is None else str(value)
        return values


def build_sales_order(order, mappings=None, rules=None):
    """The canonical SalesOrder for the back office; item codes and pack multipliers are set on the lines
    (`mappings.lines(order)`), for the caller to save with the send."""
    mappings = mappings or Mappings([order])
    links = mappings.links(order)
    lines = []
    for line in mappings.lines(order):
        link = links[line.sku]
        quantity = line.quantity_ordered * link.pack_multiplier
        net = line.item_price - line.promotion_discount  # ItemPrice is the line total (unit price x quantity)
        lines.append(SalesOrderLine(
            line_ref=line.order_item_id, item_code=link.item_code, quantity=quantity,
            unit_price=(net / quantity).quantize(UNIT_PRICE_PLACES), description=line.title[:200],
        ))
        line.item_code, line.pack_multiplier = link.item_code, link.pack_multiplier
    address = getattr(order, "address", None)
    return SalesOrder(
        amazon_order_id=order.amazon_order_id,
        order_date=order.purchase_date,
        ship_by=order.latest_ship_date,
        ship_method=mappings.ship_level(order).warehouse_ship_method,
        currency=order.currency,
        address=SalesAddress(email=order.buyer_email, **{name: getattr(address, name, "") for name in ADDRESS_FIELDS}),
        lines=lines,
        is_prime=order.is_prime,
        custom_fields=(rules or CustomFields()).values(order),
    )


def send_order(order, mappings=None, rules=None):
    """Create the order in the back office (at most once: the back office is idempotent on the Amazon id).

    `mappings` and `rules` come prepared for a batch (prepare_sends), or are read here."""
    if (order.hub_state == HubState.RECEIVED and order.send_attempted_at and order.status not in SENDABLE
            and order.status not in (*services.WAITING, OrderStatus.CANCELLED)):
        return _settle_tried_create(order)
    if order.hub_state != HubState.RECEIVED or order.fulfillment_channel != "MFN" or order.status not in SENDABLE:
        return f"not sent: {order.hub_state}, {order.status}"
    prepared, mappings = mappings is not None, mappings or Mappings([order])
    reason = mappings.problems(order)  # mappings may have changed since the order was queued
    if not reason and order.account.back_office is None:
        reason, for_mapping = "the seller account has no back office connection", False
    else:
        for_mapping = True
    if reason:
        try:
            order.hold(reason, for_mapping=for_mapping)
        except ValidationError:  # sent, cancelled or held by ops since it was read
            return _read_again(order, prepared)
        return "held"
    sales_order = build_sales_order(order, mappings, rules)
    if not order.begin_send(ship_method=sales_order.ship_method, lines=mappings.lines(order)):
        # Held or cancelled meanwhile, or a newer copy from Amazon stored since this one was read (a
        # worker's batch is read when claimed): never send what was read before the change.
        return _read_again(order, prepared)
    reference = connect.back_office(order.account.back_office).create_sales_order(sales_order)
    order.mark_sent(reference)  # keeps the reference whatever happened while the create was in flight
    if order.status == OrderStatus.CANCELLED:
        # Amazon cancelled it while the create was in flight: it is in the back office now all the same.
        services.queue_cancel(order)
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


def _read_again(order, prepared):
    """The order changed after a batch read it: send it as it stands now (once); unprepared, not sent."""
    if not prepared:
        return "not sent: changed while being prepared"
    fresh = Order.objects.select_related("account__back_office", "address").get(pk=order.pk)
    return send_order(fresh)


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
