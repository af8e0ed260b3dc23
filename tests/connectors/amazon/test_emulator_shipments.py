"""confirmShipment on the emulator: Amazon's validation rules, split shipments and status progression."""

import datetime as dt

import pytest

MARKETPLACE = "A1F83G8C2ARO7P"


@pytest.fixture
def two_line_order(amazon_emulator):
    """An Unshipped order: 2 x DEMO-SKU-001 and 1 x DEMO-SKU-002; returns (order id, item ids)."""
    order_id = amazon_emulator.make_order(
        items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}, {"SellerSKU": "DEMO-SKU-002", "QuantityOrdered": 1}]
    )
    items = [item["OrderItemId"] for item in amazon_emulator.order(order_id)["OrderItems"]]
    return order_id, items


def package(reference="1", lines=(), **overrides):
    detail = {
        "packageReferenceId": reference,
        "carrierCode": "Royal Mail",
        "shippingMethod": "Tracked 48",
        "trackingNumber": f"TT{reference}23456785GB",
        "shipDate": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in lines],
    }
    detail.update(overrides)
    return detail


def confirm(api, order_id, detail, marketplace=MARKETPLACE):
    body = {"marketplaceId": marketplace, "packageDetail": detail}
    return api.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body)


def rejected(answer):
    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    return error["message"] + " " + error.get("details", "")


def test_split_shipment_moves_unshipped_to_partially_shipped_to_shipped(amazon_emulator, amazon_api, two_line_order):
    order_id, (first, second) = two_line_order
    before = amazon_emulator.order(order_id)["LastUpdateDate"]
    amazon_emulator.advance_clock(5)
    assert confirm(amazon_api, order_id, package("1", [(first, 2)])).status_code == 204
    middle = amazon_api.get(f"/orders/v0/orders/{order_id}").json()["payload"]
    assert middle["OrderStatus"] == "PartiallyShipped"
    assert (middle["NumberOfItemsShipped"], middle["NumberOfItemsUnshipped"]) == (2, 1)
    assert middle["LastUpdateDate"] > before
    assert confirm(amazon_api, order_id, package("2", [(second, 1)])).status_code == 204
    done = amazon_api.get(f"/orders/v0/orders/{order_id}").json()["payload"]
    assert done["OrderStatus"] == "Shipped" and done["NumberOfItemsUnshipped"] == 0
    assert [p["packageReferenceId"] for p in amazon_emulator.confirmations(order_id)] == ["1", "2"]


def test_shipped_packages_appear_in_2026_packages(amazon_emulator, amazon_api, two_line_order):
    order_id, (first, second) = two_line_order
    confirm(amazon_api, order_id, package("1", [(first, 2), (second, 1)]))
    order = amazon_api.get(
        f"/orders/2026-01-01/orders/{order_id}", params={"includedData": "PACKAGES,FULFILLMENT"}
    ).json()["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["packages"][0]["trackingNumber"] == "TT123456785GB"
    assert order["packages"][0]["carrier"] == "Royal Mail"
    assert {line["orderItemId"]: line["quantity"] for line in order["packages"][0]["packageItems"]} == {
        first: 2,
        second: 1,
    }


def test_resending_a_package_reference_edits_it_instead_of_shipping_twice(amazon_emulator, amazon_api, two_line_order):
    order_id, (first, _) = two_line_order
    assert confirm(amazon_api, order_id, package("1", [(first, 2)])).status_code == 204
    assert confirm(amazon_api, order_id, package("1", [(first, 2)], trackingNumber="NEW123")).status_code == 204
    assert amazon_emulator.order(order_id)["NumberOfItemsShipped"] == 2
    assert [p["trackingNumber"] for p in amazon_emulator.confirmations(order_id)] == ["NEW123"]


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"shipDate": "02/21/2022"}, "shipDate"),
        ({"shipDate": "2026-03-02"}, "shipDate"),
        ({"shipDate": None}, "shipDate"),
        ({"carrierCode": "Other"}, "carrierName"),
        ({"carrierCode": "Evri"}, "carrierCode"),
        ({"carrierCode": "royal mail"}, "carrierCode"),
        ({"carrierCode": ""}, "carrierCode"),
        ({"trackingNumber": ""}, "trackingNumber"),
        ({"packageReferenceId": "PKG-1"}, "packageReferenceId"),
        ({"packageReferenceId": "0"}, "packageReferenceId"),
        ({"orderItems": []}, "orderItems"),
        ({"orderItems": None}, "orderItems"),
        ({"orderItems": [{"quantity": 1}]}, "orderItemId"),
        ({"orderItems": [{"orderItemId": "99999999999999", "quantity": 1}]}, "not an item"),
    ],
)
def test_invalid_package_detail_is_400_invalid_input(amazon_emulator, amazon_api, two_line_order, overrides, words):
    order_id, (first, _) = two_line_order
    answer = confirm(amazon_api, order_id, package("1", [(first, 1)], **overrides))
    assert words in rejected(answer)
    assert amazon_emulator.confirmations(order_id) == []
    assert amazon_emulator.order(order_id)["OrderStatus"] == "Unshipped"


def test_other_carrier_with_a_name_is_accepted(amazon_api, two_line_order):
    order_id, (first, _) = two_line_order
    answer = confirm(amazon_api, order_id, package("1", [(first, 1)], carrierCode="Other", carrierName="Evri"))
    assert answer.status_code == 204


def test_quantity_above_unshipped_is_400(amazon_api, two_line_order):
    order_id, (first, _) = two_line_order
    assert confirm(amazon_api, order_id, package("1", [(first, 1)])).status_code == 204
    assert "exceeds the 1 unshipped" in rejected(confirm(amazon_api, order_id, package("2", [(first, 2)])))


def test_missing_package_detail_or_marketplace_is_400(amazon_api, two_line_order):
    order_id, _ = two_line_order
    no_detail = amazon_api.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation", json={"marketplaceId": MARKETPLACE}
    )
    no_marketplace = amazon_api.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json={"packageDetail": {}})
    assert "packageDetail" in rejected(no_detail)
    assert "marketplaceId" in rejected(no_marketplace)


def test_confirming_a_canceled_order_is_400(amazon_emulator, amazon_api, two_line_order):
    order_id, (first, _) = two_line_order
    amazon_emulator.cancel_order(order_id)
    assert "Canceled" in rejected(confirm(amazon_api, order_id, package("1", [(first, 1)])))


def test_confirming_an_unknown_order_is_404(amazon_api):
    answer = confirm(amazon_api, "202-0000000-0000001", package("1", [("1", 1)]))
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NotFound"


def test_confirming_with_body_that_is_not_json_is_400(amazon_api, two_line_order):
    order_id, _ = two_line_order
    answer = amazon_api.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", data="not json")
    assert "not valid JSON" in rejected(answer)


@pytest.mark.parametrize("ship_date,problem", [
    ("2026-11-20T10:00:00", "must carry a time zone"),
    ((dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "is in the future"),
    ("2020-01-01T10:00:00Z", "is before the order was placed"),
])
def test_ship_dates_amazon_cannot_take_are_refused_naming_the_field(amazon_api, two_line_order, ship_date, problem):
    order_id, (first, _) = two_line_order
    message = rejected(confirm(amazon_api, order_id, package("1", [(first, 1)], shipDate=ship_date)))
    assert "shipDate" in message and problem in message
