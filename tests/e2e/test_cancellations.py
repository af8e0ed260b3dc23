"""A cancellation reaches the back office whenever a create may have landed; a refusal is an exception."""

import pytest

from connectors.models import BackOfficeConnection
from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from tests.e2e.test_outage import time_passes
from tests.factories import ShipLevelMapFactory, SkuLinkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mapped(account, warehouse):
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="BOTTLE-750")
    warehouse.add_item("BOTTLE-750", on_hand=50)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    return account


def one_bottle(amazon_emulator):
    return amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])


def create_left_queued(amazon_emulator, warehouse, sl_connection, run_repeating):
    """An order whose create file waits in SL's drop folder past the connector's patience (the TI agent
    is busy); returns its id."""
    BackOfficeConnection.objects.filter(pk=sl_connection.pk).update(
        options={**sl_connection.options, "ti_wait_seconds": 0.3})
    warehouse.runner.pause()
    order_id = one_bottle(amazon_emulator)
    run_repeating("orders.import")
    assert WorkItem.objects.get(kind=WorkKind.SEND_ORDER).state == WorkState.RETRYING
    return order_id


def test_cancel_while_the_create_is_still_queued_in_the_back_office_cancels_it_there(
        mapped, amazon_emulator, warehouse, sl_connection, run_repeating, work):
    order_id = create_left_queued(amazon_emulator, warehouse, sl_connection, run_repeating)
    assert warehouse.order_count(order_id) == 0

    amazon_emulator.cancel_order(order_id)  # the buyer cancels meanwhile
    run_repeating("orders.import")
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state != HubState.CANCELLED  # not in the hub alone: the create may land
    cancel = WorkItem.objects.get(kind=WorkKind.CANCEL_ORDER)
    assert cancel.state == WorkState.RETRYING and "still waiting in a TI file" in cancel.last_error

    warehouse.runner.resume()  # the agent imports the create, then the cancellation
    for _ in range(10):  # a few rounds: on a loaded machine the agent thread may take more than one
        time_passes(minutes=5)
        work()
        if Order.objects.get(amazon_order_id=order_id).hub_state == HubState.CANCELLED:
            break
    assert warehouse.order_count(order_id) == 1  # created once, never twice
    assert warehouse.backoffice.get_sales_order_status(order_id).cancelled
    order.refresh_from_db()
    assert order.hub_state == HubState.CANCELLED
    assert not WorkItem.objects.filter(state=WorkState.DEAD).exists()


def test_a_cancel_the_warehouse_refuses_is_an_exception_on_the_order(
        mapped, amazon_emulator, warehouse, run_repeating, client_as, ops_user):
    order_id = one_bottle(amazon_emulator)
    run_repeating("orders.import")
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == HubState.SENT
    line = order.lines.get()
    warehouse.dispatch(order_id, [{"tracking_number": "RM300000001GB", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    amazon_emulator.cancel_order(order_id)  # too late: the parcel has left
    run_repeating("orders.import")

    assert WorkItem.objects.get(kind=WorkKind.CANCEL_ORDER).state == WorkState.DEAD
    order.refresh_from_db()
    assert "cannot be cancelled" in order.cancel_refused
    assert list(Order.objects.cancel_refused()) == [order]
    page = client_as(ops_user).get(f"/orders/{order.pk}/").content.decode()
    assert "cannot be cancelled" in page
    home = client_as(ops_user).get("/").content.decode()
    assert 'id="cancel-attention"' in home and order_id in home.split('id="cancel-attention"')[1]


def test_a_buyer_cancellation_request_holds_an_unsent_order_and_shows(
        account, amazon_emulator, warehouse, run_repeating, client_as, ops_user):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    amazon_emulator.request_cancellation(order_id, reason="NoLongerNeeded")
    run_repeating("orders.import")  # no SKU link yet either; the buyer's request is what ops must see
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.buyer_cancel_reason == "NoLongerNeeded"
    assert order.hub_state == HubState.HELD and "buyer asked to cancel" in order.hold_reason
    assert warehouse.order_count(order_id) == 0
    assert list(Order.objects.buyer_asked_to_cancel()) == [order]
    page = client_as(ops_user).get(f"/orders/{order.pk}/").content.decode()
    assert "NoLongerNeeded" in page


def test_an_order_whose_queued_create_landed_and_shipped_meanwhile_is_recorded_as_sent(
        mapped, amazon_emulator, warehouse, sl_connection, run_repeating, work):
    """Found by the chaos run: the retry of a create SL had not yet imported saw the order shipped on
    Amazon and gave up, so the hub never learnt the sales order it had created (the order stayed
    "received", without a back-office reference, for ever)."""
    from tests.factories import CarrierMapFactory

    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail")
    order_id = create_left_queued(amazon_emulator, warehouse, sl_connection, run_repeating)
    warehouse.runner.resume()
    warehouse.runner.run_once()  # the agent imports the file before the hub's next try
    line = Order.objects.get(amazon_order_id=order_id).lines.get()
    warehouse.dispatch(order_id, [{"tracking_number": "RM-LATE-1", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    run_repeating("shipments.poll_dispatches")  # confirmed on Amazon...
    assert amazon_emulator.confirmations(order_id)
    run_repeating("orders.import")  # ...which now says Shipped
    assert Order.objects.get(amazon_order_id=order_id).status == "shipped"
    time_passes(minutes=5)
    work()
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == HubState.SENT
    assert order.back_office_ref == warehouse.backoffice.get_sales_order_status(order_id).back_office_ref
    assert warehouse.order_count(order_id) == 1
    assert WorkItem.objects.get(kind=WorkKind.SEND_ORDER).state == WorkState.DONE
