"""Orders v0 and 2026-01-01 on the emulator: query rules, paging, both shapes of the same orders."""

import datetime as dt

import pytest

MARKETPLACE = "A1F83G8C2ARO7P"
LONG_AGO = "2020-01-01T00:00:00Z"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def get_orders(api, **params):
    return api.get("/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE, **params})


def first_error(answer):
    assert answer.status_code == 400, answer.text
    return answer.json()["errors"][0]


@pytest.mark.parametrize(
    "params, words",
    [
        ({}, "Exactly one of CreatedAfter or LastUpdatedAfter"),
        ({"CreatedAfter": LONG_AGO, "LastUpdatedAfter": LONG_AGO}, "cannot be combined"),
        ({"CreatedAfter": LONG_AGO, "LastUpdatedBefore": LONG_AGO}, "cannot be combined"),
        ({"LastUpdatedAfter": "yesterday"}, "ISO 8601"),
        (
            {"LastUpdatedAfter": "2024-01-02T00:00:00Z", "LastUpdatedBefore": "2024-01-01T00:00:00Z"},
            "equal to or after",
        ),
        ({"LastUpdatedAfter": LONG_AGO, "MaxResultsPerPage": "101"}, "between 1 and 100"),
        ({"LastUpdatedAfter": LONG_AGO, "OrderStatuses": "Cancelled"}, "unknown values: Cancelled"),
    ],
)
def test_get_orders_rejects_bad_query_with_invalid_input(amazon_api, params, words):
    error = first_error(get_orders(amazon_api, **params))
    assert error["code"] == "InvalidInput"
    assert words in error["message"]


def test_get_orders_before_must_be_two_minutes_in_the_past(amazon_api):
    now = dt.datetime.now(dt.UTC)
    too_recent = get_orders(
        amazon_api, LastUpdatedAfter=LONG_AGO, LastUpdatedBefore=iso(now - dt.timedelta(seconds=30))
    )
    fine = get_orders(amazon_api, LastUpdatedAfter=LONG_AGO, LastUpdatedBefore=iso(now - dt.timedelta(minutes=3)))
    assert "at least 2 minutes" in first_error(too_recent)["message"]
    assert fine.status_code == 200


def test_get_orders_hides_the_last_two_minutes_and_returns_the_watermark(amazon_emulator, amazon_api):
    visible = amazon_emulator.make_order()
    amazon_emulator.make_order(purchase_date=dt.datetime.now(dt.UTC))
    payload = get_orders(amazon_api, LastUpdatedAfter=LONG_AGO).json()["payload"]
    assert [o["AmazonOrderId"] for o in payload["Orders"]] == [visible]
    watermark = dt.datetime.fromisoformat(payload["LastUpdatedBefore"])
    assert dt.timedelta(minutes=1) < dt.datetime.now(dt.UTC) - watermark < dt.timedelta(minutes=3)


def test_get_orders_pages_with_next_token_and_ignores_other_filters_on_later_pages(amazon_emulator, amazon_api):
    made = [amazon_emulator.make_order() for _ in range(5)]
    first = get_orders(amazon_api, CreatedAfter=LONG_AGO, MaxResultsPerPage=2).json()["payload"]
    seen = [o["AmazonOrderId"] for o in first["Orders"]]
    token = first["NextToken"]
    while token:
        page = get_orders(amazon_api, NextToken=token, OrderStatuses="Shipped").json()["payload"]
        seen += [o["AmazonOrderId"] for o in page["Orders"]]
        token = page.get("NextToken")
    assert sorted(seen) == sorted(made)
    assert "CreatedBefore" in first and "LastUpdatedBefore" not in first


def test_get_orders_with_unknown_next_token_is_400(amazon_api):
    assert "NextToken" in first_error(get_orders(amazon_api, NextToken="garbage"))["message"]


def test_get_orders_filters_by_status(amazon_emulator, amazon_api):
    open_order = amazon_emulator.make_order()
    cancelled = amazon_emulator.make_order()
    amazon_emulator.cancel_order(cancelled)
    payload = get_orders(amazon_api, LastUpdatedAfter=LONG_AGO, OrderStatuses="Canceled").json()["payload"]
    assert [o["AmazonOrderId"] for o in payload["Orders"]] == [cancelled]
    assert payload["Orders"][0]["OrderStatus"] == "Canceled"
    assert open_order not in [o["AmazonOrderId"] for o in payload["Orders"]]


def test_get_order_unknown_id_is_404(amazon_api):
    answer = amazon_api.get("/orders/v0/orders/202-0000000-0000000")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NotFound"


def test_get_order_items_and_address_use_payload_wrapper(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order(
        items=[{"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 3}], promotion="PROMO-1"
    )
    items = amazon_api.get(f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]
    address = amazon_api.get(f"/orders/v0/orders/{order_id}/address").json()["payload"]
    assert items["AmazonOrderId"] == order_id
    assert items["OrderItems"][0]["QuantityOrdered"] == 3
    assert items["OrderItems"][0]["PromotionIds"] == ["PROMO-1"]
    assert address["ShippingAddress"]["CountryCode"] == "GB" and "AddressLine1" not in address["ShippingAddress"]


def test_pending_order_items_leave_out_prices(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order(status="Pending")
    item = amazon_api.get(f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]["OrderItems"][0]
    assert "ItemPrice" not in item and "ItemTax" not in item


def test_same_order_in_2026_shape_is_camel_case_unwrapped_with_its_own_status_names(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    amazon_emulator.cancel_order(order_id)
    answer = amazon_api.get(f"/orders/2026-01-01/orders/{order_id}", params={"includedData": "FULFILLMENT"})
    order = answer.json()["order"]
    v0 = amazon_api.get(f"/orders/v0/orders/{order_id}").json()["payload"]
    assert order["orderId"] == v0["AmazonOrderId"]
    assert order["fulfillment"]["fulfillmentStatus"] == "CANCELLED" and v0["OrderStatus"] == "Canceled"
    assert answer.headers["x-amzn-RateLimit-Limit"] == "0.5"


def test_search_orders_includes_sections_only_when_asked(amazon_emulator, amazon_api):
    amazon_emulator.make_order(promotion="UK-SPRING-10")
    bare = amazon_api.get("/orders/2026-01-01/orders", params={"lastUpdatedAfter": LONG_AGO}).json()["orders"][0]
    full = amazon_api.get(
        "/orders/2026-01-01/orders",
        params={
            "lastUpdatedAfter": LONG_AGO,
            "includedData": "RECIPIENT,PROCEEDS,PROMOTION,FULFILLMENT,PACKAGES,BUYER",
        },
    ).json()["orders"][0]
    for section in ("recipient", "proceeds", "fulfillment", "packages", "buyer"):
        assert section not in bare and section in full
    assert "promotion" not in bare["orderItems"][0]
    assert full["orderItems"][0]["promotion"] == {"breakdowns": [{"promotionId": "UK-SPRING-10"}]}
    assert full["proceeds"]["grandTotal"]["currencyCode"] == "GBP"


def test_search_orders_pages_with_pagination_token(amazon_emulator, amazon_api):
    made = {amazon_emulator.make_order() for _ in range(3)}
    first = amazon_api.get(
        "/orders/2026-01-01/orders", params={"createdAfter": LONG_AGO, "maxResultsPerPage": 2}
    ).json()
    second = amazon_api.get(
        "/orders/2026-01-01/orders", params={"paginationToken": first["pagination"]["nextToken"]}
    ).json()
    assert {o["orderId"] for o in first["orders"] + second["orders"]} == made
    assert "pagination" not in second
    assert first["createdBefore"]


def test_search_orders_enforces_exactly_one_after_and_known_included_data(amazon_api):
    neither = amazon_api.get("/orders/2026-01-01/orders", params={})
    unknown = amazon_api.get(
        "/orders/2026-01-01/orders", params={"createdAfter": LONG_AGO, "includedData": "EVERYTHING"}
    )
    assert "createdAfter or lastUpdatedAfter" in first_error(neither)["message"]
    assert "EVERYTHING" in first_error(unknown)["message"]


def test_search_orders_filters_by_fulfillment_status(amazon_emulator, amazon_api):
    amazon_emulator.make_order()
    cancelled = amazon_emulator.make_order()
    amazon_emulator.cancel_order(cancelled)
    answer = amazon_api.get(
        "/orders/2026-01-01/orders", params={"lastUpdatedAfter": LONG_AGO, "fulfillmentStatuses": "CANCELLED"}
    )
    assert [o["orderId"] for o in answer.json()["orders"]] == [cancelled]


def test_marketplace_params_added_four_ways_by_the_library_are_tolerated(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    params = {"MarketplaceId": MARKETPLACE, "marketplace_ids": MARKETPLACE, "marketplaceIds": MARKETPLACE}
    answer = amazon_api.get(f"/orders/v0/orders/{order_id}", params=params, headers={"Host": "27.0.0.1:8100"})
    assert answer.status_code == 200


def test_search_filters_are_honoured_and_checked(amazon_emulator, amazon_api):
    """fulfilledBy and marketplaceIds (Orders 2026-01-01), AmazonOrderIds and FulfillmentChannels (v0):
    values outside the model's enums or over its 50-item limits are a 400 naming the parameter."""
    uk = amazon_emulator.make_order(purchase_date=amazon_emulator.state.now() - dt.timedelta(hours=2))
    us = amazon_emulator.make_order(MarketplaceId="ATVPDKIKX0DER",
                                    purchase_date=amazon_emulator.state.now() - dt.timedelta(hours=2))
    since = (amazon_emulator.state.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def search(**params):
        return amazon_api.get("/orders/2026-01-01/orders", params={"createdAfter": since, **params})

    found = {o["orderId"] for o in search(marketplaceIds="ATVPDKIKX0DER").json()["orders"]}
    assert found == {us}
    found = {o["orderId"] for o in search(marketplaceIds="A1F83G8C2ARO7P", fulfilledBy="MERCHANT").json()["orders"]}
    assert found == {uk}
    for params, name in (({"fulfilledBy": "SELLER"}, "fulfilledBy"),
                         ({"marketplaceIds": ",".join(f"M{n}" for n in range(51))}, "marketplaceIds")):
        answer = search(**params)
        assert answer.status_code == 400 and name in answer.json()["errors"][0]["message"]

    v0 = amazon_api.get("/orders/v0/orders", params={"MarketplaceIds": "A1F83G8C2ARO7P,ATVPDKIKX0DER",
                                                      "AmazonOrderIds": us}).json()["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in v0] == [us]
    answer = amazon_api.get("/orders/v0/orders", params={"MarketplaceIds": "A1F83G8C2ARO7P",
                                                          "CreatedAfter": since, "FulfillmentChannels": "FBM"})
    assert answer.status_code == 400 and "FulfillmentChannels" in answer.json()["errors"][0]["message"]


def test_tax_is_broken_down_when_proceeds_are_asked_and_a_pending_order_shows_no_address_or_prices(
        amazon_emulator, amazon_api):
    from connectors.amazon import mapping

    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    item = amazon_emulator.order(order_id)["OrderItems"][0]
    sections = "PROCEEDS,RECIPIENT,FULFILLMENT,BUYER"
    served = amazon_api.get(f"/orders/2026-01-01/orders/{order_id}", params={"includedData": sections}).json()
    breakdowns = {b["type"]: b for b in served["order"]["orderItems"][0]["proceeds"]["breakdowns"]}
    tax = breakdowns["TAX"]
    details = {d["subtype"]: d["value"]["amount"] for d in tax["detailedBreakdowns"]}
    assert details["ITEM"] == item["ItemTax"]["Amount"]
    line = mapping.order_from_2026(served["order"]).lines[0]
    assert str(line.item_tax) == item["ItemTax"]["Amount"]

    pending = amazon_emulator.make_order(status="Pending")
    served = amazon_api.get(f"/orders/2026-01-01/orders/{pending}", params={"includedData": sections}).json()
    order = served["order"]
    assert "recipient" not in order and "proceeds" not in order
    assert all("price" not in i["product"] and "proceeds" not in i for i in order["orderItems"])
    assert mapping.order_from_2026(order).address is None


def test_order_items_come_in_pages_with_a_next_token(amazon_emulator, amazon_api):
    from connectors.amazon.emulator.generator import CATALOGUE

    skus = sorted(CATALOGUE)
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": skus[n % len(skus)], "QuantityOrdered": 1}
                                                 for n in range(23)])
    path = f"/orders/v0/orders/{order_id}/orderItems"
    pages = [amazon_api.get(path).json()["payload"]]
    while "NextToken" in pages[-1]:
        pages.append(amazon_api.get(path, params={"NextToken": pages[-1]["NextToken"]}).json()["payload"])
    assert [len(page["OrderItems"]) for page in pages] == [10, 10, 3]
    ids = [item["OrderItemId"] for page in pages for item in page["OrderItems"]]
    assert len(set(ids)) == 23
    assert amazon_api.get(path, params={"NextToken": "not-a-token"}).status_code == 400
