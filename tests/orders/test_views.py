import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from integration_hub.orders.choices import HubState
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem
from tests.factories import AddressFactory, OrderFactory, OrderLineFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def user_in(role):
    user, _ = User.objects.get_or_create(username=f"{role}-user")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def ops(client):
    client.force_login(user_in("ops"))
    return client


@pytest.fixture
def finance(client):
    client.force_login(user_in("finance"))
    return client


@pytest.fixture
def order():
    order = OrderFactory(amazon_order_id="205-1234567-7654321")
    OrderLineFactory(order=order, sku="WIDGET-RED")
    AddressFactory(order=order)
    return order


def test_pages_need_sign_in(client, order):
    for url in ("/orders/", f"/orders/{order.pk}/", "/shipments/", "/stock/"):
        assert client.get(url).status_code == 302


def test_orders_list_filters_held_and_searches_by_sku(ops, order):
    held = OrderFactory(amazon_order_id="205-0000000-0000009")
    held.hold("SKU 'GHOST' has no active SKU link")
    page = ops.get("/orders/", {"held": "true"}).content.decode()
    assert "205-0000000-0000009" in page and "GHOST" in page and order.amazon_order_id not in page
    page = ops.get("/orders/", {"q": "widget-red"}).content.decode()
    assert order.amazon_order_id in page and held.amazon_order_id not in page


def test_order_detail_shows_lines_address_and_shipments(ops, order):
    ShipmentFactory(order=order, tracking_number="TRK-SEEN-1")
    page = ops.get(f"/orders/{order.pk}/").content.decode()
    assert "WIDGET-RED" in page and "LS1 4AB" in page and "TRK-SEEN-1" in page


def test_ops_hold_release_and_refetch(ops, order):
    response = ops.post(f"/orders/{order.pk}/hold/", {"reason": "address check"}, follow=True)
    order.refresh_from_db()
    assert order.hub_state == HubState.HELD and order.hold_reason == "ops: address check"
    assert "Held" in response.content.decode()

    response = ops.post(f"/orders/{order.pk}/release/", follow=True)
    order.refresh_from_db()
    assert order.hub_state == HubState.HELD  # re-validated: the SKU is not linked
    assert "WIDGET-RED" in order.hold_reason and "still held" in response.content.decode()

    response = ops.post(f"/orders/{order.pk}/refetch/", follow=True)
    assert "Queued re-fetch" in response.content.decode()
    key = f"{order.account_id}:{order.amazon_order_id}"
    assert WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER, key=key).exists()


def test_hold_without_reason_is_refused_with_a_message(ops, order):
    response = ops.post(f"/orders/{order.pk}/hold/", {"reason": " "}, follow=True)
    order.refresh_from_db()
    assert order.hub_state == HubState.RECEIVED
    assert "a hold needs a reason" in response.content.decode()


def test_actions_are_post_only(ops, order):
    assert ops.get(f"/orders/{order.pk}/refetch/").status_code == 405


def test_finance_may_view_but_not_act(finance, order):
    assert finance.get(f"/orders/{order.pk}/").status_code == 200
    assert finance.post(f"/orders/{order.pk}/hold/", {"reason": "no"}).status_code == 403
    order.refresh_from_db()
    assert order.hub_state == HubState.RECEIVED


def test_api_lists_with_the_page_filters_and_acts_with_the_same_permissions(order):
    api = APIClient()
    api.force_authenticate(user_in("finance"))
    listed = api.get("/api/orders/", {"q": "WIDGET-RED"}).json()
    assert [row["amazon_order_id"] for row in listed["results"]] == [order.amazon_order_id]
    assert api.post(f"/api/orders/{order.pk}/hold/", {"reason": "x"}).status_code == 403

    api.force_authenticate(user_in("ops"))
    answer = api.post(f"/api/orders/{order.pk}/hold/", {"reason": "fraud check"}, format="json")
    assert answer.status_code == 202 and answer.json()["order"]["hub_state"] == "held"
    assert api.post(f"/api/orders/{order.pk}/hold/", {}, format="json").status_code == 400
    assert api.post(f"/api/orders/{order.pk}/refetch/").status_code == 202


def test_shipments_and_stock_pages_and_api_for_ops(ops, order):
    from tests.factories import SkuLinkFactory, StockLevelFactory

    ShipmentFactory(order=order, tracking_number="TRK-LIST-1")
    link = SkuLinkFactory(account=order.account, seller_sku="WIDGET-RED", item_code="W-RED")
    StockLevelFactory(connection=order.account.back_office, item_code=link.item_code, available=17)
    assert "TRK-LIST-1" in ops.get("/shipments/").content.decode()
    page = ops.get("/stock/").content.decode()
    assert "W-RED" in page and ">17<" in page
    api = APIClient()
    api.force_authenticate(user_in("ops"))
    rows = api.get("/api/stock/", {"q": "WIDGET"}).json()["results"]
    assert [(row["seller_sku"], row["available"]) for row in rows] == [("WIDGET-RED", 17)]
    assert api.get("/api/shipments/").json()["results"][0]["tracking_number"] == "TRK-LIST-1"


def test_ops_release_and_refetch_ticked_orders_in_bulk(ops, order):
    from tests.factories import ShipLevelMapFactory, SkuLinkFactory

    ready = OrderFactory(amazon_order_id="205-0000000-0000001", ship_service_level="STANDARD")
    OrderLineFactory(order=ready, sku="LINKED-1")
    AddressFactory(order=ready)
    SkuLinkFactory(account=ready.account, seller_sku="LINKED-1")
    ShipLevelMapFactory(ship_service_level="STANDARD")
    for each in (ready, order):
        each.hold("ops: checking the address")
    page = ops.get("/orders/").content.decode()
    assert 'name="orders"' in page and "Release the ticked orders" in page

    response = ops.post("/orders/bulk/", {"action": "release", "orders": [ready.pk, order.pk]}, follow=True)
    ready.refresh_from_db()
    order.refresh_from_db()
    assert ready.hub_state == HubState.RECEIVED
    assert WorkItem.objects.filter(kind=WorkKind.SEND_ORDER, key__endswith=ready.amazon_order_id).exists()
    assert order.hub_state == HubState.HELD and "WIDGET-RED" in order.hold_reason  # re-validated, still bad
    assert "Released 1 order(s); 1 still held" in response.content.decode()

    ops.post("/orders/bulk/", {"action": "refetch", "orders": [ready.pk, order.pk]})
    assert WorkItem.objects.filter(kind=WorkKind.IMPORT_ORDER).count() == 2

    too_many = ops.post("/orders/bulk/", {"action": "release", "orders": list(range(1, 502))}, follow=True)
    assert "At most 500 orders at once" in too_many.content.decode()


def test_finance_cannot_act_in_bulk(finance, order):
    order.hold("ops: checking")
    assert finance.post("/orders/bulk/", {"action": "release", "orders": [order.pk]}).status_code == 403
    assert 'name="orders"' not in finance.get("/orders/").content.decode()
    order.refresh_from_db()
    assert order.hub_state == HubState.HELD
