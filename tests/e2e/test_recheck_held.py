"""Orders held for a missing mapping validate again, and flow on, when ops add the mapping."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.orders.services import hold
from tests.factories import ShipLevelMapFactory, SkuLinkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_saving_a_sku_link_in_the_admin_sends_the_orders_held_for_it(
        account, amazon_emulator, warehouse, run_repeating, work, client_as, ops_user):
    warehouse.add_item("BOTTLE-750", on_hand=50)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    waiting = amazon_emulator.make_order(items=[{"SellerSKU": "NEW-SKU-1", "QuantityOrdered": 1}])
    kept = amazon_emulator.make_order(items=[{"SellerSKU": "NEW-SKU-1", "QuantityOrdered": 2}])
    run_repeating("orders.import")
    assert set(Order.objects.values_list("hub_state", flat=True)) == {HubState.HELD}
    hold(Order.objects.get(amazon_order_id=kept), "customer rang, wait")  # an ops hold is theirs to lift

    response = client_as(ops_user).post("/admin/mappings/skulink/add/", {
        "account": account.pk, "seller_sku": "NEW-SKU-1", "item_code": "BOTTLE-750", "pack_multiplier": 1,
        "velocity_tier": "medium", "handling_days": 2, "active": "on"})
    assert response.status_code == 302
    work()

    sent = Order.objects.get(amazon_order_id=waiting)
    assert sent.hub_state == HubState.SENT and warehouse.order_count(waiting) == 1
    still = Order.objects.get(amazon_order_id=kept)
    assert still.hub_state == HubState.HELD and still.hold_reason.startswith("ops:")
    assert warehouse.order_count(kept) == 0


def test_a_ship_level_map_added_through_the_api_sends_the_orders_held_for_it(
        account, amazon_emulator, warehouse, run_repeating, work, ops_user):
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="BOTTLE-750")
    warehouse.add_item("BOTTLE-750", on_hand=50)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}],
                                          ship_service_level="Exp UK Dom")
    run_repeating("orders.import")
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == HubState.HELD and "ship-level map" in order.hold_reason

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ops_user).key}")
    response = api.post("/api/mappings/ship-level-maps/", {
        "ship_service_level": order.ship_service_level, "warehouse_ship_method": warehouse.ship_method,
        "marketplace_id": "", "is_prime": None},
        format="json")
    assert response.status_code == 201, response.content
    work()
    order.refresh_from_db()
    assert order.hub_state == HubState.SENT and warehouse.order_count(order_id) == 1
