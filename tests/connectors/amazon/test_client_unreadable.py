"""searchOrders with an order the hub cannot read: the others still come in, the odd one is named, not lost."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from connectors.amazon.emulator import orders as emulator_orders

pytestmark = pytest.mark.django_db
BUYER = "Jane Unreadable-Buyer"


def amazon_json_order(order_id, status="UNSHIPPED", total="12.50"):
    """A searchOrders-shaped (2026-01-01) order for the emulator's `load()`, updated ten minutes ago."""
    at = (timezone.now() - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "orderId": order_id, "createdTime": at, "lastUpdatedTime": at,
        "salesChannel": {"marketplaceId": "A1F83G8C2ARO7P"},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"},
        "proceeds": {"grandTotal": {"amount": total, "currencyCode": "GBP"}},
        "buyer": {"buyerName": BUYER},
        "orderItems": [{"orderItemId": f"{order_id[-7:]}0000001", "quantityOrdered": 1,
                        "product": {"sellerSku": "SKU-A", "asin": "B000000001"}}],
    }


def amazon_adds_a_status(monkeypatch, status):
    """Amazon starts sending a fulfillment status the hub does not know (the emulator only serves known ones)."""
    monkeypatch.setitem(emulator_orders.STATUS_2026, "NewStatus", status)
    monkeypatch.setitem(emulator_orders.STATUS_V0, status, "NewStatus")


def test_search_orders_leaves_out_unreadable_orders_and_names_them(connector, amazon_emulator, monkeypatch, caplog):
    good = amazon_emulator.make_order()
    amazon_adds_a_status(monkeypatch, "ON_HOLD")
    [on_hold] = amazon_emulator.load({"orders": [amazon_json_order("202-0000001-0000001", status="ON_HOLD")]})
    [odd] = amazon_emulator.load({"orders": [amazon_json_order("202-0000002-0000002", total="12,50")]})

    with caplog.at_level(logging.WARNING, logger="connectors.amazon.client"):
        orders, watermark = connector.search_orders(timezone.now() - dt.timedelta(days=1))

    assert [order.amazon_order_id for order in orders] == [good]
    assert set(orders.unreadable) == {on_hold, odd}
    assert "'ON_HOLD'" in orders.unreadable[on_hold] and "'12,50'" in orders.unreadable[odd]
    assert timezone.now() - dt.timedelta(minutes=3) < watermark < timezone.now()
    assert on_hold in caplog.text and odd in caplog.text and "'12,50'" in caplog.text
    assert BUYER not in caplog.text


def test_an_unreadable_order_fetched_alone_is_a_permanent_error_with_the_reason(connector, amazon_emulator):
    from connectors.base import ConnectorError

    [odd] = amazon_emulator.load({"orders": [amazon_json_order("202-0000003-0000003", total="NaN")]})
    with pytest.raises(ConnectorError) as failed:
        connector.get_order(odd)
    assert failed.value.permanent and "'NaN' is not a number" in failed.value.message
