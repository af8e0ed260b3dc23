"""Three-way reconciliation: settlement order lines against the hub's dispatches and the back office.

Per order item (order id + SKU) in the settlement: matched, settled but never dispatched, fulfilled
by Amazon, or amount differs from the order's price. Refunds are matched to their orders. Items the
warehouse dispatched before the settlement ended that no settlement has paid yet are carried forward.

The settled price is the ItemPrice/Principal amount, compared with the order line's item price
(Amazon's unit price x quantity) for the quantity settled.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.finance.choices import ReconCategory
from integration_hub.finance.models import ReconciliationLine
from integration_hub.orders.models import OrderLine
from integration_hub.shipments.models import ShipmentLine

logger = logging.getLogger(__name__)

ORDER, REFUND = "Order", "Refund"
PRINCIPAL = Q(amount_type="ItemPrice", amount_description="Principal")
# How far back a dispatch still counts as "not yet settled" (Amazon keeps settlement reports 90 days).
CARRY_FORWARD_DAYS = 90
CHUNK = 5000


class HubLine(NamedTuple):
    """What the reconciliation needs of one of the hub's order lines."""

    pk: int
    quantity_ordered: int
    item_price: Decimal
    dispatched: int


def reconcile(settlement, check_back_office=True):
    """(Re)build the settlement's reconciliation. Asks the back office outside any transaction."""
    account = settlement.account
    settled = settlement.lines.filter(transaction_type__in=[ORDER, REFUND]).exclude(order_id="").order_by()
    order_ids = sorted(settled.values_list("order_id", flat=True).distinct())
    order_lines, known_orders = _hub_order_lines(account, order_ids)
    if check_back_office:
        statuses, note = _back_office_statuses(account, order_ids)
    else:
        statuses, note = {}, "The back office was not asked."
    groups = (
        settlement.lines.filter(transaction_type__in=[ORDER, REFUND])
        .values("transaction_type", "order_id", "sku")
        .annotate(quantity=Sum("quantity_purchased", filter=PRINCIPAL), any_quantity=Max("quantity_purchased"),
                  principal=Sum("amount", filter=PRINCIPAL, default=0), total=Sum("amount"),
                  fulfillment=Max("fulfillment_id"))
        .order_by("order_id", "sku", "transaction_type")
    )
    with transaction.atomic():
        settlement.reconciliation_lines.all().delete()
        batch = []
        for group in groups.iterator(chunk_size=CHUNK):  # a large settlement has hundreds of thousands
            batch.append(_classify(settlement, group, order_lines, known_orders, statuses))
            if len(batch) == CHUNK:
                ReconciliationLine.objects.bulk_create(batch)
                batch = []
        ReconciliationLine.objects.bulk_create(batch)
        ReconciliationLine.objects.bulk_create(_not_settled(settlement), batch_size=CHUNK)  # after the settled ones
        settlement.reconciled_at = timezone.now()
        settlement.reconciliation_note = note
        settlement.save(update_fields=["reconciled_at", "reconciliation_note"])
    return settlement.reconciliation_summary()


def _hub_order_lines(account, order_ids):
    """(order id, SKU) -> HubLine with its dispatched quantity, and the order ids the hub knows."""
    by_key, known = {}, set()
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start:start + CHUNK]
        rows = (OrderLine.objects.filter(order__account=account, order__amazon_order_id__in=chunk)
                .values_list("order__amazon_order_id", "sku", "pk", "quantity_ordered", "item_price")
                .annotate(dispatched=Sum("shipment_lines__quantity", default=0)).order_by("pk"))
        for order_id, sku, *line in rows:
            known.add(order_id)
            by_key.setdefault((order_id, sku), HubLine(*line))
    return by_key, known


def _back_office_statuses(account, order_ids):
    """Amazon order id -> SalesOrderStatus (None: not in the back office), and a note when not all were asked."""
    if account.back_office is None:
        return {}, "No back office is set for this seller account: orders were not checked there."
    from connectors.registry import back_office_for

    try:
        backoffice = back_office_for(account.back_office)
    except (ImportError, ConnectorError) as exc:  # e.g. the connection's options are incomplete
        return {}, f"The {account.back_office} connection cannot be used ({exc}): orders were not checked there."
    statuses = {}
    for order_id in dict.fromkeys(order_ids):
        try:
            statuses[order_id] = backoffice.get_sales_order_status(order_id)
        except ConnectorError as exc:
            logger.warning("back-office check of settlement orders stopped at %s: %s", order_id, exc.message)
            return statuses, f"The back office check stopped at order {order_id}: {exc.message}"
    return statuses, ""


def _classify(settlement, group, order_lines, known_orders, statuses):
    order_id, sku = group["order_id"], group["sku"]
    order_line = order_lines.get((order_id, sku))
    line = ReconciliationLine(settlement=settlement, order_id=order_id, sku=sku,
                              order_line_id=order_line.pk if order_line else None)
    if order_id in statuses:
        status = statuses[order_id]
        line.back_office_ref = status.back_office_ref if status else ""
        line.back_office_status = (status.status or "found")[:60] if status else "not found"
    if group["transaction_type"] == REFUND:
        line.settled_amount = group["total"]
        line.category = ReconCategory.REFUND_MATCHED if order_id in known_orders else ReconCategory.REFUND_UNMATCHED
        return line
    quantity = group["quantity"] if group["quantity"] is not None else (group["any_quantity"] or 0)
    line.quantity_settled = quantity
    line.settled_amount = group["principal"]
    if group["fulfillment"] == "AFN":
        line.category = ReconCategory.FULFILLED_BY_AMAZON
        return line
    if order_line is None:
        line.category = ReconCategory.NOT_DISPATCHED
        line.note = "SKU not on the hub's order" if order_id in known_orders else "order not in the hub"
        return line
    dispatched = order_line.dispatched
    line.quantity_dispatched = dispatched
    line.order_amount = _order_amount(order_line, quantity)
    if dispatched < quantity:
        line.category = ReconCategory.NOT_DISPATCHED
        line.note = f"{quantity} settled, {dispatched} dispatched"
    elif line.settled_amount != line.order_amount:
        line.category = ReconCategory.AMOUNT_DIFFERS
        line.note = f"differs by {line.settled_amount - line.order_amount}"
    else:
        line.category = ReconCategory.MATCHED
    return line


def _order_amount(order_line, quantity):
    """The order's price for the settled quantity (Amazon settles each shipment of a split order)."""
    if quantity == order_line.quantity_ordered or not order_line.quantity_ordered:
        return order_line.item_price
    return (order_line.item_price * quantity / order_line.quantity_ordered).quantize(Decimal("0.01"))


def _not_settled(settlement):
    """Order items dispatched before the settlement ended that no settlement of the account has paid."""
    settled = ReconciliationLine.objects.filter(
        settlement__account=settlement.account, category__in=ReconCategory.settled(), order_line__isnull=False
    ).values("order_line")
    dispatched = (
        ShipmentLine.objects.filter(
            shipment__order__account=settlement.account, shipment__shipped_at__lte=settlement.end_date,
            shipment__shipped_at__gte=settlement.end_date - timedelta(days=CARRY_FORWARD_DAYS))
        .exclude(order_line__in=settled)
        .values("order_line", "order_line__order__amazon_order_id", "order_line__sku", "order_line__item_price")
        .annotate(quantity=Sum("quantity")).order_by("order_line")
    )
    return [
        ReconciliationLine(
            settlement=settlement, category=ReconCategory.NOT_SETTLED,
            order_id=row["order_line__order__amazon_order_id"], sku=row["order_line__sku"],
            order_line_id=row["order_line"], quantity_dispatched=row["quantity"],
            order_amount=row["order_line__item_price"], note="carried forward to a later settlement",
        )
        for row in dispatched
    ]
