"""Orders in: decide whether each may go to the back office, and send it.

    order = upsert_order(account, amazon_order)   # integration_hub.orders.store
    route(order)                                  # hold, wait, cancel, or queue SEND_ORDER
    route_many(orders)                            # the same for a search page, in a few queries

Network calls (Amazon, back office) are made outside any database transaction.
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import ConnectorError, NotInBackOffice
from integration_hub.core.iterables import chunked
from integration_hub.orders import connect
from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.orders.models import (
    CANCELLED_THERE,
    DISPATCHED_THERE,
    LOST_STATUSES,
    NOT_FOUND,
    Address,
    Order,
)
from integration_hub.orders.store import ADDRESS_FIELDS, SENDABLE
from integration_hub.orders.validation import Mappings
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import submit, submit_many
from integration_hub.sync.models import WorkItem
from mappings.models import OrderStatusMap

logger = logging.getLogger(__name__)

# Statuses in which payment is not yet authorised: the order waits, it is neither held nor sent.
WAITING = (OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY)


def order_key(account, amazon_order_id):
    """The work-item key for IMPORT_ORDER, SEND_ORDER and CANCEL_ORDER."""
    return f"{account.pk}:{amazon_order_id}"


# ---- validation and routing --------------------------------------------------------------


def route(order):
    """Take the next step for a stored order. Returns what was done, for logs and tests."""
    return route_many([order])[0]


def route_many(orders):
    """Take the next step for each stored order (a search page at once); returns what was done for each.

    Validation, holds and queued sends take a few queries for the lot; cancellations go one by one.
    """
    outcomes = {}
    to_check = []
    for order in orders:
        if order.hub_state == HubState.CANCELLED:
            outcomes[order.pk] = "cancelled"
        elif order.status == OrderStatus.CANCELLED:
            outcomes[order.pk] = _cancel(order)
        elif order.fulfillment_channel != "MFN":
            outcomes[order.pk] = "fulfilled by Amazon"  # FBA orders never go to the warehouse
        elif order.hub_state in (HubState.SENT, HubState.HELD):
            outcomes[order.pk] = order.hub_state  # a held order waits for ops; a sent one for its dispatch
        elif order.status in WAITING:
            outcomes[order.pk] = "waiting for payment"
        elif order.status not in SENDABLE:
            outcomes[order.pk] = f"not sendable ({order.status})"
        else:
            to_check.append(order)
    mappings = Mappings(to_check) if to_check else None
    reasons = {order.pk: mappings.problems(order) for order in to_check}
    held = [order for order in to_check if reasons[order.pk]]
    for order in held:
        order.hold(reasons[order.pk], for_mapping=True, save=False)
        logger.info("order %s held: %s", order.amazon_order_id, reasons[order.pk])
        outcomes[order.pk] = "held"
    Order.objects.bulk_update(held, Order.HOLD_FIELDS)
    sends = [order for order in to_check if not reasons[order.pk]]
    submit_many(WorkKind.SEND_ORDER, [{"key": order_key(order.account, order.amazon_order_id), "account": order.account,
                                       **urgency(order)} for order in sends], reset=True)
    outcomes.update({order.pk: "send queued" for order in sends})
    return [outcomes[order.pk] for order in orders]


def _cancel(order):
    if order.cancel_unless_in_back_office():
        return "cancelled"
    # Sent, or held with a back-office reference: only the back office can stop the warehouse.
    queue_cancel(order)
    return "cancel queued"


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
    held = held.order_by(F("latest_ship_date").asc(nulls_last=True))
    for chunk in chunked(held.iterator(chunk_size=200), 200):
        mappings = Mappings(chunk)
        for order in chunk:
            reason = mappings.problems(order)
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


def queue_cancel(order):
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
