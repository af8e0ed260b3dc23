"""Applied, then the reply is lost: Amazon takes a confirmation but the connection drops before the
hub hears back (scripted emulator faults). The hub must neither lose nor double it: every package
ends confirmed exactly once, with the mapped carrier code, and nothing is a dead letter."""

import pytest

from integration_hub.orders.models import Order
from integration_hub.shipments.models import Shipment
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from tests.e2e.test_outage import mapped, time_passes  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_confirmations_whose_replies_are_lost_land_once(mapped, amazon_emulator, warehouse, run_repeating,  # noqa: F811
                                                       work):
    plan = amazon_emulator.fault_plan
    plan.hold_seconds = 0.2
    ids = [amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}])
           for _ in range(3)]
    plan.script("searchOrders", "applied_then_reset")  # a lost reply on a read: asked again
    run_repeating("orders.import")
    if Order.objects.filter(hub_state="sent").count() < 3:
        time_passes(minutes=3)
        run_repeating("orders.import")
    assert Order.objects.filter(hub_state="sent").count() == 3
    for n, order_id in enumerate(ids):
        line = Order.objects.get(amazon_order_id=order_id).lines.get()
        warehouse.dispatch(order_id, [{"tracking_number": f"RM-{n}-A", "lines": {line.order_item_id: 1}},
                                      {"tracking_number": f"RM-{n}-B", "lines": {line.order_item_id: 1}}],
                           ship_method=warehouse.ship_method)
    plan.script("confirmShipment", "applied_then_reset", "applied_then_timeout", "500", "applied_then_reset",
                "html_502", "applied_then_reset")
    run_repeating("shipments.poll_dispatches")
    for _ in range(4):
        work()
        if not WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT).exclude(state=WorkState.DONE).exists():
            break
        time_passes(minutes=2)
    assert plan.pending("confirmShipment") == 0, "every scripted fault fired"
    assert [fault for _, fault in plan.fired].count("applied_then_reset") >= 3
    for order_id in ids:
        packages = amazon_emulator.confirmations(order_id)
        assert sorted(p["trackingNumber"] for p in packages) == sorted(
            Shipment.objects.filter(order__amazon_order_id=order_id).values_list("tracking_number", flat=True))
        assert len(packages) == 2 and {p["carrierCode"] for p in packages} == {"Royal Mail"}
        shipped = sum(item.get("QuantityShipped", 0) for item in amazon_emulator.order(order_id)["OrderItems"])
        assert shipped == 2, "a package counted twice on Amazon"
    assert set(Shipment.objects.values_list("confirmation_state", flat=True)) == {"confirmed"}
    assert not WorkItem.objects.filter(state=WorkState.DEAD).exists()
