"""Least privilege on orders: finance sees ids, SKUs and amounts but never the buyer's name, e-mail or
address (pages, admin, API); nobody edits an order's state, back-office reference or address in the
admin, where the hold/release rules would be bypassed."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Address, Order
from tests.factories import AddressFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

BUYER = ("Jane Buyer", "1 High Street", "jane@marketplace.amazon.co.uk", "0113 000000")


@pytest.fixture
def order():
    address = AddressFactory(name=BUYER[0], line1=BUYER[1], phone=BUYER[3], order__buyer_email=BUYER[2],
                             order__buyer_name=BUYER[0])
    OrderLineFactory(order=address.order, sku="MUG-RED")
    return address.order


def shows_buyer(text):
    return [value for value in BUYER if value in text]


def api_get(user, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client.get(url)


def test_finance_sees_the_order_but_not_the_buyer(client_as, finance_user, order):
    client = client_as(finance_user)
    pages = [f"/orders/{order.pk}/", f"/admin/orders/order/{order.pk}/change/", "/admin/orders/order/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert order.amazon_order_id in text, url
        assert shows_buyer(text) == [], url
    assert "MUG-RED" in client.get(f"/orders/{order.pk}/").content.decode()
    data = api_get(finance_user, f"/api/orders/{order.pk}/").json()
    assert data["amazon_order_id"] == order.amazon_order_id and data["lines"][0]["sku"] == "MUG-RED"
    assert not {"address", "buyer_name", "buyer_email"} & set(data)
    listing = api_get(finance_user, "/api/orders/").json()["results"]
    assert listing and shows_buyer(str(listing)) == []


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_and_admins_see_the_buyer_where_they_need_it(request, client_as, role, order):
    user = request.getfixturevalue(f"{role}_user")
    client = client_as(user)
    assert shows_buyer(client.get(f"/orders/{order.pk}/").content.decode()) == list(BUYER[:2])
    assert set(shows_buyer(client.get(f"/admin/orders/order/{order.pk}/change/").content.decode())) >= set(BUYER)
    data = api_get(user, f"/api/orders/{order.pk}/").json()
    assert data["address"]["name"] == BUYER[0] and data["buyer_email"] == BUYER[2]


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_nobody_edits_an_orders_state_reference_or_address_in_the_admin(request, client_as, role, order):
    user = request.getfixturevalue(f"{role}_user")
    Order.objects.filter(pk=order.pk).update(hub_state=HubState.HELD, hold_reason="unknown SKU")
    client = client_as(user)
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'name="hub_state"' not in page and 'name="back_office_ref"' not in page
    assert 'name="address-0-line1"' not in page
    response = client.post(f"/admin/orders/order/{order.pk}/change/", {
        "hub_state": "sent", "back_office_ref": "FORGED", "hold_reason": "",
        "address-TOTAL_FORMS": "1", "address-INITIAL_FORMS": "1", "address-0-id": order.address.pk,
        "address-0-order": order.pk, "address-0-line1": "Somewhere else"})
    assert response.status_code == 403
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.hub_state, fresh.back_office_ref) == (HubState.HELD, order.back_office_ref)
    assert Address.objects.get(order=order).line1 == BUYER[1]
    assert client.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
