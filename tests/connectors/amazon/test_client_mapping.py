"""Amazon JSON -> records, read from Amazon's own samples and model examples; and what we refuse to send."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.conf import settings

from connectors.amazon import mapping
from connectors.amazon.records import PackageConfirmation, QuantityUpdate
from connectors.base import ConnectorError
from integration_hub.orders.choices import OrderStatus

REFERENCE = settings.SPAPI_REFERENCE_DIR


def reference(*parts):
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"Amazon reference file {path} not present (HUB_SPAPI_REFERENCE_DIR)")
    return json.loads(path.read_text())


def model_example(model, path, status="200"):
    operation = reference("models", model)["paths"][path]["get"]
    return operation["responses"][status]["examples"]["application/json"]


def test_order_2026_example_maps_money_dates_flags_and_lines():
    data = model_example("orders_2026-01-01.json", "/orders/2026-01-01/orders/{orderId}")["order"]
    order = mapping.order_from_2026(data)
    assert order.amazon_order_id == "202-1234567-8901234"
    assert (order.status, order.raw_status) == (OrderStatus.SHIPPED, "SHIPPED")
    assert order.marketplace_id == "A1F83G8C2ARO7P"
    assert order.purchase_date == dt.datetime(2024, 12, 25, 9, 15, tzinfo=dt.UTC)
    assert order.latest_ship_date == dt.datetime(2024, 12, 26, 23, 59, 59, tzinfo=dt.UTC)
    assert order.latest_delivery_date.tzinfo is not None
    assert (order.order_total, order.currency) == (Decimal("103.97"), "GBP")
    assert order.is_prime and not order.is_business
    assert order.fulfillment_channel == "MFN"
    assert order.buyer_name == "James Wilson"
    assert (order.address.postcode, order.address.county, order.address.company) == (
        "M1 2AB", "Greater Manchester", "Wilson Electronics Ltd")
    [line] = order.lines
    assert (line.sku, line.asin, line.quantity_ordered, line.quantity_shipped) == (
        "ECHO-DOT-4-UK-CHARCOAL-3PACK", "B08DFPV54V", 3, 3)
    assert (line.item_price, line.shipping_price, line.item_tax, line.shipping_tax) == (
        Decimal("89.97"), Decimal("10.00"), Decimal("3.00"), Decimal("1.00"))
    assert all(isinstance(v, Decimal) for v in (line.item_price, line.item_tax, line.promotion_discount))


def test_order_v0_sandbox_samples_map_to_the_same_record_shape():
    orders = reference("samples", "orders_getOrders_200_sandbox.json")["response"]["payload"]["Orders"]
    items = reference("samples", "orders_getOrderItems_200_sandbox.json")["response"]["payload"]["OrderItems"]
    address = reference("samples", "orders_getOrderAddress_200_sandbox.json")["response"]["payload"]["ShippingAddress"]
    order = mapping.order_from_v0(orders[0], items, address)
    assert (order.amazon_order_id, order.status, order.ship_service_level) == (
        "902-1845936-5435065", OrderStatus.UNSHIPPED, "Std US D2D Dom")
    assert order.order_total == Decimal("11.01") and order.currency == "USD"
    assert order.purchase_date.tzinfo is not None
    assert (order.address.city, order.address.county, order.address.postcode) == ("SEATTLE", "WA", "98121-2778")
    [line] = order.lines
    assert (line.sku, line.item_price, line.item_tax, line.promotion_discount) == (
        "NABetaASINB00551Q3CS", Decimal("10.00"), Decimal("1.01"), Decimal("0.00"))


@pytest.mark.parametrize(("v0", "v2026", "expected"), [
    ("PendingAvailability", "PENDING_AVAILABILITY", OrderStatus.PENDING_AVAILABILITY),
    ("Pending", "PENDING", OrderStatus.PENDING),
    ("Unshipped", "UNSHIPPED", OrderStatus.UNSHIPPED),
    ("PartiallyShipped", "PARTIALLY_SHIPPED", OrderStatus.PARTIALLY_SHIPPED),
    ("Shipped", "SHIPPED", OrderStatus.SHIPPED),
    ("Canceled", "CANCELLED", OrderStatus.CANCELLED),
    ("Unfulfillable", "UNFULFILLABLE", OrderStatus.UNFULFILLABLE),
])
def test_both_api_versions_statuses_map_to_one_enum(v0, v2026, expected):
    old = mapping.order_from_v0({"AmazonOrderId": "1", "OrderStatus": v0, "PurchaseDate": "2026-01-01T00:00:00Z",
                                 "LastUpdateDate": "2026-01-01T00:00:00Z"})
    new = mapping.order_from_2026({"orderId": "1", "createdTime": "2026-01-01T00:00:00Z",
                                   "lastUpdatedTime": "2026-01-01T00:00:00Z",
                                   "fulfillment": {"fulfillmentStatus": v2026}})
    assert old.status == new.status == expected


def test_unreadable_answers_say_which_order_and_field():
    with pytest.raises(mapping.AmazonDataError, match="order 1: unknown Amazon order status 'Lost'"):
        mapping.order_from_v0({"AmazonOrderId": "1", "OrderStatus": "Lost"})
    with pytest.raises(mapping.AmazonDataError, match="order 2: no fulfillment.fulfillmentStatus"):
        mapping.order_from_2026({"orderId": "2"})
    with pytest.raises(mapping.AmazonDataError, match="order 3 proceeds.grandTotal: amount 'n/a'"):
        mapping.order_from_2026({"orderId": "3", "fulfillment": {"fulfillmentStatus": "PENDING"},
                                 "createdTime": "2026-01-01T00:00:00Z",
                                 "proceeds": {"grandTotal": {"amount": "n/a", "currencyCode": "GBP"}}})
    with pytest.raises(mapping.AmazonDataError, match="order 4 createdTime: 'yesterday'"):
        mapping.order_from_2026({"orderId": "4", "fulfillment": {"fulfillmentStatus": "PENDING"},
                                 "createdTime": "yesterday"})


def package(**overrides):
    values = {"package_reference_id": 1, "carrier_code": "Royal Mail", "carrier_name": "",
              "shipping_method": "Tracked 24", "tracking_number": "RR123456789GB",
              "ship_date": dt.datetime(2026, 5, 2, 10, tzinfo=dt.UTC), "items": [("20212345678901", 2)]}
    return PackageConfirmation(**{**values, **overrides})


def test_confirm_body_carries_iso_ship_date_and_string_package_reference():
    body = mapping.confirm_shipment_body("202-1-1", "A1F83G8C2ARO7P", package())
    assert body == {"marketplaceId": "A1F83G8C2ARO7P", "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "Royal Mail", "shippingMethod": "Tracked 24",
        "trackingNumber": "RR123456789GB", "shipDate": "2026-05-02T10:00:00Z",
        "orderItems": [{"orderItemId": "20212345678901", "quantity": 2}]}}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"package_reference_id": 0}, "packageReferenceId must be a positive whole number"),
    ({"carrier_code": ""}, "carrierCode is required"),
    ({"carrier_code": "Other"}, "carrierName is required when carrierCode is 'Other'"),
    ({"tracking_number": ""}, "trackingNumber is required"),
    ({"items": []}, "needs at least one item"),
    ({"items": [("1", 0)]}, "needs at least one item"),
    ({"ship_date": dt.datetime(2026, 5, 2, 10)}, "shipDate must be a timezone-aware datetime"),
])
def test_a_package_amazon_would_reject_is_refused_before_sending(overrides, message):
    with pytest.raises(ConnectorError, match=message) as refused:
        mapping.confirm_shipment_body("202-1-1", "A1F83G8C2ARO7P", package(**overrides))
    assert refused.value.permanent
    assert "order 202-1-1" in refused.value.message


def test_quantity_patch_always_carries_the_handling_time():
    body = mapping.listings_patch_body(QuantityUpdate("SKU-1", 7, 3), 3)
    assert body == {"productType": "PRODUCT", "patches": [{
        "op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7, "lead_time_to_ship_max_days": 3}]}]}
    with pytest.raises(ConnectorError, match="SKU-1: quantity must be a whole number >= 0"):
        mapping.listings_patch_body(QuantityUpdate("SKU-1", -1, 3), 3)


def test_current_handling_time_is_read_from_the_listing_attributes():
    listing = {"attributes": {"fulfillment_availability": [
        {"fulfillment_channel_code": "AMAZON_EU", "quantity": 1},
        {"fulfillment_channel_code": "DEFAULT", "quantity": 4, "lead_time_to_ship_max_days": 5}]}}
    assert mapping.lead_days_of(listing) == 5
    assert mapping.lead_days_of({"attributes": {}}) is None


def test_a_feed_over_25000_messages_is_refused_so_callers_split_it():
    updates = [QuantityUpdate(f"SKU-{n}", 1, 2) for n in range(25_001)]
    with pytest.raises(ValueError, match="25001 quantity updates exceed the 25000 messages"):
        mapping.quantity_feed("SELLER", updates)
    document, skus = mapping.quantity_feed("SELLER", updates[:25_000])
    assert len(document["messages"]) == 25_000 and skus[25_000] == "SKU-24999"


def test_feed_issues_map_to_skus_from_the_issue_or_its_message_id():
    report = reference("samples", "json_listings_feed_processing_report_example.json")
    issues, accepted, errors = mapping.feed_issues(report, {})
    assert set(issues) == {"My-SKU-B", "My-SKU-C"} and len(issues["My-SKU-B"]) == 2
    assert "batteries_required" in issues["My-SKU-B"][0]
    assert (accepted, errors) == (2, 3)
    bare = {"issues": [{"messageId": 2, "code": "90000", "severity": "ERROR", "message": "SKU not found"},
                       {"severity": "ERROR", "message": "feed is malformed"}], "summary": {"errors": 2}}
    issues, _, _ = mapping.feed_issues(bare, {"1": "SKU-A", "2": "SKU-B"})
    assert issues == {"SKU-B": ["ERROR 90000: SKU not found"], "": ["ERROR: feed is malformed"]}
