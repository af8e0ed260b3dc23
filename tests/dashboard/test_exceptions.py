"""The exceptions page: held orders grouped by what holds them, with the fix (and a suggested one) a click
away; saving a fix there re-checks the held orders and retries the confirmations, as the admin does."""

import pytest

from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from mappings.models import CarrierMap, ShipLevelMap, SkuLink
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    SellerAccountFactory,
    ShipLevelMapFactory,
    ShipmentFactory,
    SkuLinkFactory,
    StockLevelFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def recheck_held():
    """Run the re-check the saved mapping queued (not the sends it queues in turn: no back office here)."""
    from integration_hub.sync import engine

    for pk in WorkItem.objects.filter(kind=WorkKind.RECHECK_HELD).exclude(state=WorkState.DONE).values_list(
            "pk", flat=True):
        engine.run_work_item(pk)


def held_for(account, sku, level="STANDARD"):
    order = OrderFactory(account=account, ship_service_level=level)
    OrderLineFactory(order=order, sku=sku)
    order.hold(f"SKU '{sku}' has no active SKU link", for_mapping=True)
    return order


def test_an_unknown_sku_is_shown_with_the_closest_item_codes_and_linked_in_one_click(client_as, ops_user):
    account = SellerAccountFactory(name="UK seller")
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method="RM24")
    StockLevelFactory(connection=account.back_office, item_code="MUG-RED-L", available=12)
    StockLevelFactory(connection=account.back_office, item_code="TEAPOT-1", available=3)
    orders = [held_for(account, "mug_red_l") for _ in range(2)]
    page = client_as(ops_user).get("/exceptions/").content.decode()
    assert "mug_red_l" in page and "Link to MUG-RED-L" in page and "12 available" in page
    assert "Link to TEAPOT-1" not in page, "an unlike code is not suggested"
    response = client_as(ops_user).post("/exceptions/link-sku/", {"account": account.pk, "seller_sku": "mug_red_l",
                                                                  "item_code": "MUG-RED-L"}, follow=True)
    assert "Linked mug_red_l to MUG-RED-L" in response.content.decode()
    assert SkuLink.objects.get(account=account, seller_sku="mug_red_l").item_code == "MUG-RED-L"
    recheck_held()  # the saved link re-checks the held orders
    for order in orders:
        order.refresh_from_db()
        assert order.hub_state != "held", order.hold_reason
    assert WorkItem.objects.filter(kind=WorkKind.SEND_ORDER).count() == 2
    assert "No order is held for a missing SKU link" in client_as(ops_user).get("/exceptions/").content.decode()


def test_a_sku_linked_on_another_account_is_the_first_suggestion(client_as, ops_user):
    uk = SellerAccountFactory(name="UK seller")
    de = SellerAccountFactory(name="DE seller", back_office=uk.back_office)
    SkuLinkFactory(account=uk, seller_sku="LAMP-USB", item_code="L-0093")
    held_for(de, "LAMP-USB")
    page = client_as(ops_user).get("/exceptions/").content.decode()
    assert "Link to L-0093" in page and "linked to LAMP-USB on UK seller" in page


def test_an_unmapped_ship_level_is_mapped_from_the_page(client_as, ops_user):
    account = SellerAccountFactory()
    SkuLinkFactory(account=account, seller_sku="S1", item_code="I1")
    order = OrderFactory(account=account, ship_service_level="NEXT_DAY")
    OrderLineFactory(order=order, sku="S1")
    order.hold("ship service level 'NEXT_DAY' has no ship-level map", for_mapping=True)
    assert "NEXT_DAY" in client_as(ops_user).get("/exceptions/").content.decode()
    client_as(ops_user).post("/exceptions/map-ship-level/", {"ship_service_level": "NEXT_DAY", "marketplace_id": "",
                                                             "warehouse_ship_method": "DPDNEXT"})
    assert ShipLevelMap.objects.get(ship_service_level="NEXT_DAY").warehouse_ship_method == "DPDNEXT"
    recheck_held()
    order.refresh_from_db()
    assert order.hub_state != "held"


def test_a_dead_confirmation_for_an_unmapped_ship_method_suggests_the_carrier_and_is_retried(
        client_as, ops_user):
    shipment = ShipmentFactory(ship_method="DPD Local Next Day", carrier="", confirmation_state="failed")
    item = WorkItem.objects.create(kind=WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk), account=shipment.order.account,
                                   state=WorkState.DEAD, last_error="no carrier map for 'DPD Local Next Day'")
    page = client_as(ops_user).get("/exceptions/").content.decode()
    assert "Map to DPD" in page and "DPD Local Next Day" in page
    client_as(ops_user).post("/exceptions/map-carrier/", {"warehouse_ship_method": "DPD Local Next Day",
                                                          "carrier_code": "DPD"})
    assert CarrierMap.objects.get(warehouse_ship_method="DPD Local Next Day").carrier_code == "DPD"
    item.refresh_from_db()
    assert item.state != WorkState.DEAD, "saving the carrier map retries the confirmation"


def test_a_bad_fix_says_what_is_wrong_and_saves_nothing(client_as, ops_user):
    response = client_as(ops_user).post("/exceptions/map-carrier/", {"warehouse_ship_method": "Van",
                                                                     "carrier_code": "Not A Carrier"}, follow=True)
    assert "Not saved" in response.content.decode() and "carrier_code" in response.content.decode()
    assert not CarrierMap.objects.filter(warehouse_ship_method="Van").exists()


def test_finance_neither_sees_the_page_nor_saves_a_fix(client_as, finance_user):
    account = SellerAccountFactory()
    assert client_as(finance_user).get("/exceptions/").status_code == 403
    response = client_as(finance_user).post("/exceptions/link-sku/", {"account": account.pk, "seller_sku": "X",
                                                                      "item_code": "Y"})
    assert response.status_code == 403 and not SkuLink.objects.exists()
    assert Order.objects.count() == 0
