"""An outage heals by itself: nothing becomes a dead letter, and the backlog drains most urgent first."""

import datetime as dt

import pytest
from django.utils import timezone

from connectors.models import CircuitState
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import sweep
from integration_hub.sync.models import WorkItem
from tests.factories import CarrierMapFactory, ShipLevelMapFactory, SkuLinkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mapped(account, warehouse):
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="BOTTLE-750")
    warehouse.add_item("BOTTLE-750", on_hand=100)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    ShipLevelMapFactory(ship_service_level="NEXT_DAY", warehouse_ship_method=warehouse.ship_method)
    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail")
    return account


def time_passes(minutes):
    """Everything waiting becomes due, as if `minutes` had passed (the back-off is at most 5 minutes)."""
    WorkItem.objects.filter(state=WorkState.RETRYING).update(next_attempt_at=timezone.now())
    CircuitState.objects.filter(state=CircuitState.State.OPEN).update(
        opened_at=timezone.now() - dt.timedelta(minutes=minutes))
    sweep()


def test_amazon_down_longer_than_every_retry_leaves_no_dead_letter_and_drains_in_ship_by_order(
        mapped, amazon_emulator, warehouse, run_repeating, work):
    now = amazon_emulator.state.now()
    # Placed in one order, due in another: the drain must follow ship-by (Prime first on the tie).
    plan = [("late", 40, False), ("soonest", 3, False), ("middle", 20, False), ("tie-prime", 20, True)]
    ids = {}
    for name, hours, prime in plan:
        ids[name] = amazon_emulator.make_order(
            items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}], is_prime=prime,
            latest_ship_date=now + dt.timedelta(hours=hours))
    run_repeating("orders.import")
    assert Order.objects.filter(hub_state="sent").count() == 4
    for name, order_id in ids.items():
        line = Order.objects.get(amazon_order_id=order_id).lines.get()
        warehouse.dispatch(order_id, [{"tracking_number": f"RM-{name}", "lines": {line.order_item_id: 1}}],
                           ship_method=warehouse.ship_method)

    amazon_emulator.set_faults(error_rate=1.0)  # Amazon down
    run_repeating("shipments.poll_dispatches")
    for _ in range(12):  # longer than the 8 attempts that used to make dead letters
        time_passes(minutes=2)
        work()
    items = WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT)
    assert {item.state for item in items} == {WorkState.RETRYING}
    assert sum(item.waits for item in items) >= 12
    assert all(amazon_emulator.confirmations(order_id) == [] for order_id in ids.values())

    amazon_emulator.set_faults(error_rate=0.0)  # Amazon back
    started = Exchange.objects.order_by("-pk").values_list("pk", flat=True).first()
    time_passes(minutes=2)
    work()
    assert {item.state for item in items.all()} == {WorkState.DONE}
    assert not WorkItem.objects.filter(state=WorkState.DEAD).exists()
    landed = list(Exchange.objects.filter(pk__gt=started, operation="confirmShipment", outcome="ok")
                  .order_by("pk").values_list("correlation_id", flat=True))
    assert landed == [ids["soonest"], ids["tie-prime"], ids["middle"], ids["late"]]
