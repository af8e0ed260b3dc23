"""One order across both systems, in time order: placed on Amazon, received and checked by the hub,
held and released, sent to the back office, dispatched, each package confirmed on Amazon, cancelled,
settled; with the exchanges (every call about the order) and the people's actions in between.

    entries = timeline(order)   # [Entry], oldest first
"""

from dataclasses import dataclass, field

from django.db.models import Min, Sum
from django.urls import reverse

from integration_hub.audit import services as audit
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem

MAX_EXCHANGES = 200


@dataclass
class Entry:
    at: object  # aware datetime
    system: str  # "Amazon", "hub", "back office", "people"
    what: str
    detail: str = ""
    link: str = ""
    kind: str = "step"  # "step", "exchange" or "action"
    failed: bool = False
    tags: list = field(default_factory=list)


def timeline(order):
    from integration_hub.finance.models import SettlementLine
    from integration_hub.orders import services

    entries = [Entry(order.purchase_date, "Amazon", "Placed on Amazon",
                     f"{order.marketplace_id}, ship by {order.latest_ship_date:%Y-%m-%d %H:%M %Z}"
                     if order.latest_ship_date else order.marketplace_id),
               Entry(order.created_at, "hub", "Received by the hub", f"status {order.amazon_status}")]
    if order.held_at:
        entries.append(Entry(order.held_at, "hub", "Held for review" if order.hub_state == HubState.HELD
                             else "Held (since released)", order.hold_reason))
    work = list(WorkItem.objects.filter(key=services.order_key(order.account, order.amazon_order_id),
                                        kind__in=[WorkKind.SEND_ORDER, WorkKind.CANCEL_ORDER]))
    shipments = list(order.shipments.all())
    for item in work:
        sent = item.kind == WorkKind.SEND_ORDER
        if item.state == WorkState.DONE and item.done_at:
            entries.append(Entry(item.done_at, "back office", "Created in the back office" if sent
                                 else "Cancelled in the back office",
                                 f"reference {order.back_office_ref}" if sent and order.back_office_ref else ""))
        elif item.state == WorkState.DEAD:
            entries.append(Entry(item.dead_at or item.updated_at, "hub", f"{item.get_kind_display()} gave up",
                                 item.last_error[:300], failed=True))
    for shipment in shipments:
        package = f"package {shipment.package_reference_id} ({shipment.carrier or shipment.ship_method}, " \
                  f"{shipment.tracking_number or 'no tracking'})"
        entries.append(Entry(shipment.shipped_at, "back office", "Dispatched", package,
                             link=reverse("shipments:detail", args=[shipment.pk])))
        if shipment.confirmed_at:
            late = order.latest_ship_date and shipment.confirmed_at > order.latest_ship_date
            entries.append(Entry(shipment.confirmed_at, "Amazon", "Confirmed on Amazon" + (" (late)" if late else ""),
                                 package, link=reverse("shipments:detail", args=[shipment.pk]), failed=bool(late)))
    if order.status == OrderStatus.CANCELLED:
        entries.append(Entry(order.last_update_date, "Amazon", "Cancelled on Amazon",
                             order.buyer_cancel_reason or ""))
    settled = (SettlementLine.objects.filter(order_id=order.amazon_order_id, settlement__account=order.account)
               .values("settlement_id", "settlement__settlement_id")
               .annotate(total=Sum("amount"), first=Min("settlement__imported_at")))
    for row in settled:
        entries.append(Entry(row["first"], "Amazon", "Settled",
                             f"settlement {row['settlement__settlement_id']}: {row['total']} {order.currency}",
                             link=reverse("finance:settlement", args=[row["settlement_id"]])))
    for exchange in Exchange.objects.filter(correlation_id=order.amazon_order_id).order_by("-started_at")[
            :MAX_EXCHANGES]:
        entries.append(Entry(exchange.started_at, exchange.get_system_display(), exchange.operation,
                             exchange.error[:200] if exchange.error else exchange.get_outcome_display(),
                             link=reverse("exchanges:detail", args=[exchange.pk]), kind="exchange",
                             failed=exchange.outcome in ("transient", "permanent"),
                             tags=[f"attempt {exchange.attempt}"] if exchange.attempt > 1 else []))
    for event in audit.trail_for(order, *work, *shipments, limit=100):
        entries.append(Entry(event.at, "people", f"{event.username}: {event.get_action_display()}", event.detail,
                             kind="action"))
    return sorted((entry for entry in entries if entry.at), key=lambda entry: entry.at)
