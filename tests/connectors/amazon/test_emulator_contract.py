"""Contract: what the emulator answers validates against Amazon's official models, and their sandbox
examples replay against it."""

import copy
import datetime as dt
import gzip
import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import requests
from django.conf import settings

REFERENCE = Path(settings.SPAPI_REFERENCE_DIR)
pytestmark = pytest.mark.skipif(
    not (REFERENCE / "models").is_dir(),
    reason=f"Amazon's SP-API models are not at {REFERENCE}/models (set HUB_SPAPI_REFERENCE_DIR / SPAPI_REFERENCE_DIR)",
)
MARKETPLACE = "A1F83G8C2ARO7P"
LONG_AGO = "2020-01-01T00:00:00Z"
EVERYTHING_2026 = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT"


@cache
def load(relative):
    return json.loads((REFERENCE / relative).read_text(encoding="utf-8"))


def strict(node):
    """Objects in the model may carry only the properties it names (catches misspelt or invented fields)."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


def check(model_file, definition, instance):
    """Validate against `#/definitions/<definition>` of a Swagger 2.0 model, resolving $refs inside it."""
    definitions = strict(copy.deepcopy(load(f"models/{model_file}")["definitions"]))
    schema = {"definitions": definitions, "allOf": [{"$ref": f"#/definitions/{definition}"}]}
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture
def busy_order(amazon_emulator, amazon_api):
    """A promoted, partly shipped two-line order; returns its id."""
    order_id = amazon_emulator.make_order(
        items=[
            {"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2},
            {"SellerSKU": "DEMO-SKU-002", "QuantityOrdered": 1},
        ],
        promotion="UK-SPRING-10",
        is_prime=True,
        ship_service_level="NextDay UK Dom",
        purchase_date=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),  # before the package's shipDate below
    )
    item_id = amazon_emulator.order(order_id)["OrderItems"][0]["OrderItemId"]
    detail = {
        "packageReferenceId": "1",
        "carrierCode": "DPD",
        "trackingNumber": "15501234567890",
        "shippingMethod": "Next Day",
        "shipDate": "2026-03-02T10:00:00Z",
        "orderItems": [{"orderItemId": item_id, "quantity": 2}],
    }
    answer = amazon_api.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={"marketplaceId": MARKETPLACE, "packageDetail": detail},
    )
    assert answer.status_code == 204
    return order_id


def test_orders_v0_answers_match_the_model(amazon_api, busy_order):
    orders = amazon_api.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": LONG_AGO, "MaxResultsPerPage": 1},
    )
    check("ordersV0.json", "GetOrdersResponse", orders.json())
    check("ordersV0.json", "GetOrderResponse", amazon_api.get(f"/orders/v0/orders/{busy_order}").json())
    check("ordersV0.json", "GetOrderItemsResponse", amazon_api.get(f"/orders/v0/orders/{busy_order}/orderItems").json())
    check("ordersV0.json", "GetOrderAddressResponse", amazon_api.get(f"/orders/v0/orders/{busy_order}/address").json())
    check(
        "ordersV0.json", "GetOrderBuyerInfoResponse", amazon_api.get(f"/orders/v0/orders/{busy_order}/buyerInfo").json()
    )


def test_orders_v0_errors_match_the_model(amazon_api, busy_order):
    bad = amazon_api.post(f"/orders/v0/orders/{busy_order}/shipmentConfirmation", json={"marketplaceId": MARKETPLACE})
    missing = amazon_api.get("/orders/v0/orders/202-0000000-0000000")
    check("ordersV0.json", "ConfirmShipmentErrorResponse", bad.json())
    check("ordersV0.json", "GetOrderResponse", missing.json())


def test_orders_2026_answers_with_every_section_match_the_model(amazon_emulator, amazon_api, busy_order):
    amazon_emulator.cancel_order(amazon_emulator.make_order())
    amazon_emulator.make_order(promotion="UK-SPRING-10")
    search = amazon_api.get(
        "/orders/2026-01-01/orders",
        params={"lastUpdatedAfter": LONG_AGO, "includedData": EVERYTHING_2026, "maxResultsPerPage": 1},
    )
    order = amazon_api.get(f"/orders/2026-01-01/orders/{busy_order}", params={"includedData": EVERYTHING_2026})
    check("orders_2026-01-01.json", "SearchOrdersResponse", search.json())
    check("orders_2026-01-01.json", "GetOrderResponse", order.json())
    check("orders_2026-01-01.json", "ErrorList", amazon_api.get("/orders/2026-01-01/orders").json())
    assert search.json()["pagination"]["nextToken"]


def test_token_listing_feed_and_report_answers_match_their_models(amazon_emulator, amazon_api):
    rdt = amazon_api.post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders"}]},
    )
    check("tokens_2021-03-01.json", "CreateRestrictedDataTokenResponse", rdt.json())
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=2)
    item_path = f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/DEMO-SKU-001"
    item = amazon_api.get(
        item_path,
        params={"marketplaceIds": MARKETPLACE, "includedData": "summaries,attributes,issues,fulfillmentAvailability"},
    )
    check("listingsItems_2021-08-01.json", "Item", item.json())
    for sku in ("DEMO-SKU-001", "UNKNOWN"):
        patched = amazon_api.patch(
            item_path.replace("DEMO-SKU-001", sku),
            params={"marketplaceIds": MARKETPLACE},
            json={
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}],
                    }
                ],
            },
        )
        check("listingsItems_2021-08-01.json", "ListingsItemSubmissionResponse", patched.json())
    check(
        "listingsItems_2021-08-01.json",
        "ErrorList",
        amazon_api.get(item_path + "X", params={"marketplaceIds": MARKETPLACE}).json(),
    )
    document = amazon_api.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"}).json()
    check("feeds_2021-06-30.json", "CreateFeedDocumentResponse", document)
    feed = amazon_api.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document["feedDocumentId"],
        },
    ).json()
    check("feeds_2021-06-30.json", "CreateFeedResponse", feed)
    for _ in range(2):
        check("feeds_2021-06-30.json", "Feed", amazon_api.get(f"/feeds/2021-06-30/feeds/{feed['feedId']}").json())
    amazon_emulator.add_settlement_report("settlement-id\n1\n")
    reports = amazon_api.get(
        "/reports/2021-06-30/reports", params={"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}
    ).json()
    check("reports_2021-06-30.json", "GetReportsResponse", reports)
    report_document = amazon_api.get(
        f"/reports/2021-06-30/documents/{reports['reports'][0]['reportDocumentId']}"
    ).json()
    check("reports_2021-06-30.json", "ReportDocument", report_document)
    check("reports_2021-06-30.json", "ErrorList", amazon_api.post("/reports/2021-06-30/reports", json={}).json())


def test_official_listings_feed_example_is_processed_and_its_report_matches_the_schema(amazon_emulator, amazon_api):
    example = copy.deepcopy(load("samples/json_listings_feed_example.json"))
    example["header"]["sellerId"] = amazon_emulator.seller_id
    jsonschema.validate(example, load("models/listings-feed-schema-v2.json"))
    for sku in ("My-SKU-A", "My-SKU-B", "My-SKU-D", "My-SKU-E"):
        amazon_emulator.add_listing(sku, quantity=1, handling_days=3, product_type="LUGGAGE")
    amazon_emulator.set_faults(feed_polls_to_done=1)
    document = amazon_api.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"}).json()
    requests.put(document["url"], data=json.dumps(example), headers={"Content-Type": "application/json"}, timeout=10)
    feed_id = amazon_api.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document["feedDocumentId"],
        },
    ).json()["feedId"]
    feed = amazon_api.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    document = amazon_api.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
    check("feeds_2021-06-30.json", "FeedDocument", document)
    report = json.loads(gzip.decompress(requests.get(document["url"], timeout=10).content))
    jsonschema.validate(report, load("models/listings-feed-processing-report-schema-v2.json"))
    assert feed["processingStatus"] == "DONE" and report["summary"]["messagesAccepted"] == 5
    assert amazon_emulator.listing("My-SKU-A") is None
    assert amazon_emulator.listing("My-SKU-C")["quantity"] == 10
    assert (amazon_emulator.listing("My-SKU-D")["quantity"], amazon_emulator.listing("My-SKU-D")["handling_days"]) == (
        10,
        None,
    )
    assert (amazon_emulator.listing("My-SKU-E")["quantity"], amazon_emulator.listing("My-SKU-E")["handling_days"]) == (
        10,
        3,
    )


def test_sandbox_get_orders_and_order_items_replay_unchanged(amazon_emulator, amazon_api):
    orders = load("samples/orders_getOrders_200_sandbox.json")["response"]
    items = load("samples/orders_getOrderItems_200_sandbox.json")["response"]["payload"]
    seeded = copy.deepcopy(orders)
    for order in seeded["payload"]["Orders"]:
        if order["AmazonOrderId"] == items["AmazonOrderId"]:
            order["OrderItems"] = items["OrderItems"]
    amazon_emulator.load(seeded)
    answer = amazon_api.get(
        "/orders/v0/orders", params={"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "1970-01-01T00:00:00Z"}
    )
    assert answer.json()["payload"]["Orders"] == orders["payload"]["Orders"]
    assert amazon_api.get(f"/orders/v0/orders/{items['AmazonOrderId']}/orderItems").json()["payload"] == items


def test_sandbox_order_address_replays_with_a_restricted_data_token(amazon_emulator, amazon_api):
    expected = load("samples/orders_getOrderAddress_200_sandbox.json")["response"]["payload"]
    order = copy.deepcopy(load("samples/orders_getOrders_200_sandbox.json")["response"]["payload"]["Orders"][0])
    order["ShippingAddress"] = expected["ShippingAddress"]
    amazon_emulator.load({"payload": {"Orders": [order]}})
    rdt = amazon_api.post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": f"/orders/v0/orders/{order['AmazonOrderId']}/address",
                    "dataElements": ["shippingAddress"],
                }
            ]
        },
    )
    answer = requests.get(
        f"{amazon_emulator.url}/orders/v0/orders/{order['AmazonOrderId']}/address",
        headers={"x-amz-access-token": rdt.json()["restrictedDataToken"]},
        timeout=10,
    )
    assert answer.json()["payload"] == expected


def test_sandbox_confirm_shipment_204_and_400_replay(amazon_emulator, amazon_api):
    sample = load("samples/orders_confirmShipment_sandbox.json")
    good = sample["204"]["request"]["parameters"]
    order_id = good["orderId"]["value"]
    line = good["body"]["value"]["packageDetail"]["orderItems"][0]
    amazon_emulator.make_order(
        order_id=order_id,
        MarketplaceId="ATVPDKIKX0DER",
        items=[{"OrderItemId": line["orderItemId"], "QuantityOrdered": 1}],
        purchase_date=dt.datetime.fromisoformat(good["body"]["value"]["packageDetail"]["shipDate"])
        - dt.timedelta(days=1),
    )
    path = f"/orders/v0/orders/{order_id}/shipmentConfirmation"
    bad = amazon_api.post(path, json=sample["400"]["request"]["parameters"]["body"]["value"])
    ok = amazon_api.post(path, json=good["body"]["value"])
    assert (bad.status_code, ok.status_code, ok.content) == (400, 204, b"")
    check("ordersV0.json", "ConfirmShipmentErrorResponse", bad.json())
    assert set(bad.json()["errors"][0]) >= set(sample["400"]["response"]["errors"][0])
    assert amazon_emulator.confirmations(order_id)[0]["trackingNumber"] == "112345678"


def test_searchorders_sandbox_example_loads_and_serves_back_in_the_same_shape(amazon_emulator, amazon_api):
    model = load("models/orders_2026-01-01.json")
    example = model["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]["x-amzn-api-sandbox"]["static"][0]
    included = ",".join(example["request"]["parameters"]["includedData"]["value"])
    order = example["response"]["orders"][0]
    amazon_emulator.load(example["response"])
    served = amazon_api.get(f"/orders/2026-01-01/orders/{order['orderId']}", params={"includedData": included}).json()[
        "order"
    ]
    check("orders_2026-01-01.json", "Order", served)
    for key in ("orderId", "createdTime", "lastUpdatedTime", "programs", "salesChannel", "buyer"):
        assert served[key] == order[key], key
    assert served["fulfillment"]["fulfillmentStatus"] == order["fulfillment"]["fulfillmentStatus"]
    assert served["recipient"]["deliveryAddress"] == order["recipient"]["deliveryAddress"]
    assert [(i["orderItemId"], i["quantityOrdered"], i["product"]["sellerSku"]) for i in served["orderItems"]] == [
        (i["orderItemId"], i["quantityOrdered"], i["product"]["sellerSku"]) for i in order["orderItems"]
    ]


def test_listings_search_and_requested_report_answers_match_their_models(amazon_emulator, amazon_api):
    for n in range(3):
        amazon_emulator.add_listing(f"DEMO-SKU-00{n + 1}", quantity=n, handling_days=n + 1)
    search_path = f"/listings/2021-08-01/items/{amazon_emulator.seller_id}"
    found = amazon_api.get(search_path, params={
        "marketplaceIds": MARKETPLACE, "identifiers": "DEMO-SKU-003,NOPE,DEMO-SKU-001", "identifiersType": "SKU",
        "includedData": "summaries,attributes", "pageSize": 1}).json()
    check("listingsItems_2021-08-01.json", "ItemSearchResults", found)
    assert [item["sku"] for item in found["items"]] == ["DEMO-SKU-003"]
    following = amazon_api.get(search_path, params={"marketplaceIds": MARKETPLACE,
                                                    "pageToken": found["pagination"]["nextToken"]}).json()
    assert [item["sku"] for item in following["items"]] == ["DEMO-SKU-001"]
    too_many = amazon_api.get(search_path, params={"marketplaceIds": MARKETPLACE, "identifiersType": "SKU",
                                                   "identifiers": ",".join(f"S{n}" for n in range(21))})
    assert too_many.status_code == 400
    check("listingsItems_2021-08-01.json", "ErrorList", too_many.json())
    created = amazon_api.post("/reports/2021-06-30/reports", json={
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [MARKETPLACE]})
    assert created.status_code == 202
    check("reports_2021-06-30.json", "CreateReportResponse", created.json())
    report_id = created.json()["reportId"]
    states = []
    for _ in range(3):
        report = amazon_api.get(f"/reports/2021-06-30/reports/{report_id}").json()
        check("reports_2021-06-30.json", "Report", report)
        states.append(report["processingStatus"])
    assert states == ["IN_PROGRESS", "DONE", "DONE"]
    info = amazon_api.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    text = gzip.decompress(requests.get(info["url"], timeout=5).content).decode()
    header, *rows = text.splitlines()
    assert {"seller-sku", "quantity"} <= set(header.split("\t"))
    assert len(rows) == 3


def test_order_change_notifications_match_amazons_schema(amazon_emulator, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator")
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=amazon_emulator.url)
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}])
    amazon_emulator.request_cancellation(order_id)
    messages = sqs.receive_message(QueueUrl=amazon_emulator.sqs_queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=0)["Messages"]
    schema = load("models/OrderChangeNotification.json")
    bodies = [json.loads(message["Body"]) for message in messages]
    for body in bodies:
        errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(body), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert [b["Payload"]["OrderChangeNotification"]["OrderChangeType"] for b in bodies] == [
        "OrderStatusChange", "BuyerRequestedChange"]


def test_seller_performance_report_validates_against_amazons_schema(amazon_emulator, amazon_api):
    from tests.connectors.amazon.test_emulator_reports import performance_report, shipped

    amazon_emulator.set_faults(quota_multiplier=20)
    amazon_emulator.configure(token_ttl=10 * 86400)
    amazon_api.headers["x-amz-access-token"] = amazon_api.new_access_token(amazon_emulator)
    order_id = amazon_emulator.make_order(latest_ship_date=amazon_emulator.state.now() + dt.timedelta(hours=1))
    shipped(amazon_api, amazon_emulator, order_id, "1")
    # Two days, not one: the report covers whole days up to yesterday, and run after 23:00 UTC the ship-by
    # an hour away falls on the next day, outside a range that ends one day on (it failed at 23:25).
    amazon_emulator.advance_clock(2 * 86400)
    report = performance_report(amazon_api, amazon_emulator)
    schema = load("models/accountHealthReport-2020-11-18.json")
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(report), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert report["performanceMetrics"][0]["lateShipmentRate"]["orderCount"] == 1
