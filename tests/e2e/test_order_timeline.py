"""The order timeline, end to end: an order imported from the Amazon emulator, created in the Dynamics SL
emulator, dispatched and confirmed through a real worker; its timeline shows each step in time order with
the calls behind them and what people did."""

import pytest

from integration_hub.orders.models import Order
from tests.e2e.test_outage import mapped  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_orders_timeline_runs_from_amazon_through_the_warehouse_and_back(
        mapped, amazon_emulator, warehouse, run_repeating, work, client_as, ops_user):  # noqa: F811
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    run_repeating("orders.import")
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == "sent"
    client = client_as(ops_user)
    client.post(f"/orders/{order.pk}/refetch/")  # a person's action shows too
    line = order.lines.get()
    warehouse.dispatch(order_id, [{"tracking_number": "RM-TL-1", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    run_repeating("shipments.poll_dispatches")
    work()
    assert amazon_emulator.confirmations(order_id), "confirmed on Amazon"

    html = client.get(f"/orders/{order.pk}/timeline/").content.decode()
    steps = ["Placed on Amazon", "Received by the hub", "Created in the back office", "Dispatched",
             "Confirmed on Amazon"]
    positions = [html.index(step) for step in steps]
    assert positions == sorted(positions), "the steps in time order"
    assert "confirmShipment" in html and "RM-TL-1" in html
    assert f"{ops_user.username}: " in html, "the person who asked for a re-fetch"
    detail = client.get(f"/orders/{order.pk}/").content.decode()
    assert f"/orders/{order.pk}/timeline/" in detail
