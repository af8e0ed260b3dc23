"""The emulator driven by the real python-amazon-sp-api library, quirks included (FACTS 8.1-8.3)."""

import datetime as dt
import io
import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sp_api.api import Feeds, ListingsItems, Orders, Reports
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import SellingApiBadRequestException, SellingApiRequestThrottledException

MARKETPLACE = "A1F83G8C2ARO7P"


def client(api_class, emulator, secret=None, **kwargs):
    """An sp_api client whose LWA and SP-API calls go to the emulator (Host header left as the library sends it)."""
    parts = urlsplit(emulator.url)
    local_lwa = type("LocalLWA", (AccessTokenClient,), {"scheme": "http://", "host": parts.netloc})
    marketplace = SimpleNamespace(endpoint=emulator.url, marketplace_id=MARKETPLACE, region="eu-west-1")
    credentials = {
        "refresh_token": emulator.refresh_token,
        "lwa_app_id": emulator.client_id,
        "lwa_client_secret": secret or emulator.client_secret,
    }
    return api_class(marketplace, credentials=credentials, auth_token_client_class=local_lwa, **kwargs)


def test_library_lists_orders_and_follows_next_token(amazon_emulator):
    ids = {amazon_emulator.make_order() for _ in range(3)}
    orders = client(Orders, amazon_emulator)
    first = orders.get_orders(LastUpdatedAfter="2020-01-01T00:00:00Z", MaxResultsPerPage=2)
    second = orders.get_orders(NextToken=first.next_token)
    seen = {o["AmazonOrderId"] for o in first.payload["Orders"] + second.payload["Orders"]}
    assert seen == ids
    assert second.next_token is None
    assert first.payload["LastUpdatedBefore"]
    assert first.rate_limit == "0.0167"


def test_library_reads_items_and_confirms_shipment_with_204(amazon_emulator):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-003", "QuantityOrdered": 1}],
                                          purchase_date=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))  # before shipDate
    orders = client(Orders, amazon_emulator)
    item = orders.get_order_items(order_id).payload["OrderItems"][0]
    answer = orders.confirm_shipment(
        order_id,
        marketplaceId=MARKETPLACE,
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "Royal Mail",
            "shippingMethod": "Tracked 24",
            "trackingNumber": "TT123456785GB",
            "shipDate": "2026-03-02T10:00:00Z",
            "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": 1}],
        },
    )
    assert answer.payload == {"status_code": 204}
    assert amazon_emulator.order(order_id)["OrderStatus"] == "Shipped"


def test_library_raises_bad_request_for_a_non_iso_ship_date(amazon_emulator):
    order_id = amazon_emulator.make_order()
    orders = client(Orders, amazon_emulator)
    item = orders.get_order_items(order_id).payload["OrderItems"][0]
    detail = {
        "packageReferenceId": "1",
        "carrierCode": "Royal Mail",
        "trackingNumber": "T1",
        "shipDate": "02/21/2022",
        "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": 1}],
    }
    with pytest.raises(SellingApiBadRequestException) as raised:
        orders.confirm_shipment(order_id, marketplaceId=MARKETPLACE, packageDetail=detail)
    assert raised.value.amzn_code == "InvalidInput"
    assert "shipDate" in raised.value.message


def test_library_fetches_restricted_address_through_a_restricted_data_token(amazon_emulator):
    order_id = amazon_emulator.make_order()
    order = client(Orders, amazon_emulator).get_order(order_id, RestrictedResources=["buyerInfo", "shippingAddress"])
    assert order.payload["ShippingAddress"]["AddressLine1"]
    assert any(path == "/tokens/2021-03-01/restrictedDataToken" for _, path, _ in amazon_emulator.requests)


def test_library_searches_2026_orders_with_included_data(amazon_emulator):
    order_id = amazon_emulator.make_order(is_prime=True)
    api = client(Orders, amazon_emulator, version="2026-01-01")
    answer = api.search_orders(lastUpdatedAfter="2020-01-01T00:00:00Z", includedData=["FULFILLMENT", "RECIPIENT"])
    order = answer.payload["orders"][0]
    assert order["orderId"] == order_id
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert order["recipient"]["deliveryAddress"]["countryCode"] == "GB"
    assert api.get_order(order_id).payload["order"]["programs"] == ["PRIME"]


def test_library_raises_throttled_exception_on_429(amazon_emulator):
    amazon_emulator.set_faults(throttle_all=True)
    with pytest.raises(SellingApiRequestThrottledException) as raised:
        client(Orders, amazon_emulator).get_orders(LastUpdatedAfter="2020-01-01T00:00:00Z")
    assert raised.value.amzn_code == "QuotaExceeded"


def test_library_gets_an_empty_response_from_an_html_502(amazon_emulator):
    amazon_emulator.set_faults(html_502_rate=1.0)
    answer = client(Orders, amazon_emulator).get_orders(LastUpdatedAfter="2020-01-01T00:00:00Z")
    assert answer.payload == {} and answer.errors is None
    assert amazon_emulator.requests[-1][2] == 502


def test_library_reports_bad_credentials_as_authorization_error(amazon_emulator):
    bad = client(Orders, amazon_emulator, secret="wrong")
    with pytest.raises(AuthorizationError) as raised:
        bad.get_orders(LastUpdatedAfter="2020-01-01T00:00:00Z")
    assert raised.value.status_code == 401


def test_library_patches_listing_quantity_and_handling_time(amazon_emulator):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=1, handling_days=2)
    body = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9, "lead_time_to_ship_max_days": 2}],
            }
        ],
    }
    answer = client(ListingsItems, amazon_emulator).patch_listings_item(
        amazon_emulator.seller_id, "DEMO-SKU-001", marketplaceIds=[MARKETPLACE], body=body
    )
    assert answer.payload["status"] == "ACCEPTED"
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 9
    assert amazon_emulator.listing("DEMO-SKU-001")["handling_days"] == 2


def test_library_submits_json_listings_feed_and_reads_the_processing_report(amazon_emulator):
    amazon_emulator.add_listing("DEMO-SKU-002", quantity=0)
    amazon_emulator.set_faults(feed_polls_to_done=1)
    document = {
        "header": {"sellerId": amazon_emulator.seller_id, "version": "2.0"},
        "messages": [
            {
                "messageId": 1,
                "sku": "DEMO-SKU-002",
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [
                            {"fulfillment_channel_code": "DEFAULT", "quantity": 4, "lead_time_to_ship_max_days": 2}
                        ],
                    }
                ],
            },
        ],
    }
    feeds = client(Feeds, amazon_emulator)
    content_type = "application/json; charset=UTF-8"
    _, created = feeds.submit_feed("JSON_LISTINGS_FEED", io.BytesIO(json.dumps(document).encode()), content_type)
    feed = feeds.get_feed(created.payload["feedId"]).payload
    assert feed["processingStatus"] == "DONE"
    report = json.loads(feeds.get_feed_result_document(feed["resultFeedDocumentId"]))
    assert report["summary"]["messagesAccepted"] == 1
    assert amazon_emulator.listing("DEMO-SKU-002")["quantity"] == 4


def test_library_lists_and_downloads_a_gzipped_settlement_report(amazon_emulator):
    text = "settlement-id\ttotal-amount\tcurrency\tamount-description\n12345678\t-3,50\tGBP\tCafé fee\n"
    amazon_emulator.add_settlement_report(text)
    reports = client(Reports, amazon_emulator)
    listed = reports.get_reports(
        reportTypes=["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"], processingStatuses=["DONE"]
    )
    document_id = listed.payload["reports"][0]["reportDocumentId"]
    document = reports.get_report_document(document_id, download=True, character_code="utf-8")
    assert document.payload["compressionAlgorithm"] == "GZIP"
    assert document.payload["document"] == text
