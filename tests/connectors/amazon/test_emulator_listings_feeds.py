"""Listings Items PATCH/GET and the JSON_LISTINGS_FEED lifecycle on the emulator."""

import gzip
import json

import requests

MARKETPLACE = "A1F83G8C2ARO7P"
JSON_TYPE = "application/json; charset=UTF-8"


def availability(quantity, handling=None):
    value = {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
    if handling is not None:
        value["lead_time_to_ship_max_days"] = handling
    return [value]


def patch(api, emulator, sku, op="replace", value=None, product_type="PRODUCT", **params):
    body = {
        "productType": product_type,
        "patches": [{"op": op, "path": "/attributes/fulfillment_availability", "value": value}],
    }
    return api.patch(
        f"/listings/2021-08-01/items/{emulator.seller_id}/{sku}",
        params={"marketplaceIds": MARKETPLACE, **params},
        json=body,
    )


def test_replace_with_handling_time_sets_quantity_and_keeps_handling(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3, handling_days=2)
    answer = patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(12, 2))
    assert answer.json()["status"] == "ACCEPTED" and answer.json()["issues"] == []
    assert answer.headers["x-amzn-RateLimit-Limit"] == "5"
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 12
    assert amazon_emulator.listing("DEMO-SKU-001")["handling_days"] == 2


def test_replace_without_handling_time_wipes_it_as_amazon_does(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3, handling_days=2)
    patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(5))
    assert amazon_emulator.listing("DEMO-SKU-001") | {"attributes": None} == {
        "sku": "DEMO-SKU-001",
        "quantity": 5,
        "handling_days": None,
        "product_type": "PRODUCT",
        "attributes": None,
        "issues": [],
    }


def test_merge_keeps_handling_time(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3, handling_days=4)
    patch(amazon_api, amazon_emulator, "DEMO-SKU-001", op="merge", value=availability(7))
    assert (
        amazon_emulator.listing("DEMO-SKU-001")["quantity"],
        amazon_emulator.listing("DEMO-SKU-001")["handling_days"],
    ) == (7, 4)


def test_patch_of_unknown_sku_is_invalid_with_error_issue(amazon_emulator, amazon_api):
    answer = patch(amazon_api, amazon_emulator, "NO-SUCH-SKU", value=availability(1, 2))
    body = answer.json()
    assert answer.status_code == 200
    assert body["status"] == "INVALID" and body["issues"][0]["severity"] == "ERROR"
    assert amazon_emulator.listing("NO-SUCH-SKU") is None


def test_negative_quantity_is_invalid_and_changes_nothing(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3)
    body = patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(-1, 2)).json()
    assert body["status"] == "INVALID" and "quantity" in body["issues"][0]["message"]
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 3


def test_validation_preview_answers_valid_without_changing_the_listing(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3)
    body = patch(
        amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(8, 2), mode="VALIDATION_PREVIEW"
    ).json()
    assert body["status"] == "VALID"
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 3


def test_an_unknown_mode_is_refused_and_changes_nothing(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3)
    answer = patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(8, 2), mode="DRY_RUN")
    assert answer.status_code == 400 and "mode" in answer.json()["errors"][0]["message"]
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 3


def test_patch_for_another_seller_is_403_and_without_marketplace_is_400(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001")
    other = amazon_api.patch(
        "/listings/2021-08-01/items/A3OTHERSELLER/DEMO-SKU-001",
        params={"marketplaceIds": MARKETPLACE},
        json={"productType": "PRODUCT", "patches": []},
    )
    no_marketplace = amazon_api.get(f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/DEMO-SKU-001")
    assert other.status_code == 403
    assert no_marketplace.status_code == 400


def test_get_listing_returns_summaries_attributes_and_fulfillment_availability(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-005", quantity=6, handling_days=1)
    answer = amazon_api.get(
        f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/DEMO-SKU-005",
        params={"marketplaceIds": MARKETPLACE, "includedData": "summaries,attributes,fulfillmentAvailability"},
    )
    body = answer.json()
    assert body["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 6}]
    assert body["attributes"]["fulfillment_availability"][0]["lead_time_to_ship_max_days"] == 1
    assert body["summaries"][0]["marketplaceId"] == MARKETPLACE


def test_get_listing_of_unknown_sku_is_404(amazon_emulator, amazon_api):
    answer = amazon_api.get(
        f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/NOPE", params={"marketplaceIds": MARKETPLACE}
    )
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["message"]


# ---- feeds ---------------------------------------------------------------------------------


def feed_message(number, sku, quantity, handling=2):
    return {
        "messageId": number,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {"op": "replace", "path": "/attributes/fulfillment_availability", "value": availability(quantity, handling)}
        ],
    }


def submit(api, emulator, document, content_type=JSON_TYPE, feed_type="JSON_LISTINGS_FEED"):
    created = api.post("/feeds/2021-06-30/documents", json={"contentType": content_type, "path": "stray"})
    assert created.status_code == 201
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    upload = requests.put(created.json()["url"], data=data, headers={"Content-Type": content_type}, timeout=10)
    assert upload.status_code == 200
    feed = api.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": feed_type,
            "marketplaceIds": [MARKETPLACE],
            "MarketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": created.json()["feedDocumentId"],
            "path": "stray",
        },
    )
    assert feed.status_code == 202
    return feed.json()["feedId"]


def poll(api, feed_id):
    return api.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()


def result(api, feed):
    """The processing report, which the emulator serves gzipped (compressionAlgorithm GZIP)."""
    document = api.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
    assert document["compressionAlgorithm"] == "GZIP"
    return json.loads(gzip.decompress(requests.get(document["url"], timeout=10).content))


def listings_document(emulator, messages):
    return {"header": {"sellerId": emulator.seller_id, "version": "2.0", "issueLocale": "en_GB"}, "messages": messages}


def test_feed_goes_in_queue_in_progress_done_and_reports_unknown_sku(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=0)
    amazon_emulator.set_faults(feed_polls_to_done=3)
    document = listings_document(
        amazon_emulator, [feed_message(1, "DEMO-SKU-001", 5), feed_message(2, "DEMO-SKU-999", 1)]
    )
    feed_id = submit(amazon_api, amazon_emulator, document)
    statuses = [poll(amazon_api, feed_id)["processingStatus"] for _ in range(3)]
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    report = result(amazon_api, poll(amazon_api, feed_id))
    assert report["summary"] == {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 2,
        "messagesAccepted": 1,
        "messagesInvalid": 1,
    }
    assert [(i["messageId"], i["sku"], i["severity"]) for i in report["issues"]] == [(2, "DEMO-SKU-999", "ERROR")]
    assert report["header"]["feedId"] == feed_id
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 5


def test_malformed_feed_document_ends_fatal_with_a_reason(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(feed_polls_to_done=1)
    wrong_version = {
        "header": {"sellerId": amazon_emulator.seller_id, "version": "1.0"},
        "messages": [feed_message(1, "A", 1)],
    }
    cases = {
        b"{not json": "not UTF-8 JSON",
        json.dumps(wrong_version).encode(): "version",
        json.dumps(listings_document(amazon_emulator, [{"messageId": 1, "sku": "A"}])).encode(): "operationType",
        json.dumps(listings_document(amazon_emulator, [feed_message(1, "A", 1)] * 2)).encode(): "messageId",
    }
    for document, words in cases.items():
        feed = poll(amazon_api, submit(amazon_api, amazon_emulator, document))
        assert feed["processingStatus"] == "FATAL"
        assert words in result(amazon_api, feed)["issues"][0]["message"]


def test_feed_with_more_than_25000_messages_is_fatal(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(feed_polls_to_done=1)
    document = listings_document(amazon_emulator, [feed_message(n, "DEMO-SKU-001", 1) for n in range(1, 25_002)])
    feed = poll(amazon_api, submit(amazon_api, amazon_emulator, document))
    assert feed["processingStatus"] == "FATAL"
    assert "25000" in result(amazon_api, feed)["issues"][0]["message"]


def test_stuck_feed_stays_in_progress(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(stuck_feeds=True, feed_polls_to_done=1)
    feed_id = submit(amazon_api, amazon_emulator, listings_document(amazon_emulator, [feed_message(1, "X", 1)]))
    assert {poll(amazon_api, feed_id)["processingStatus"] for _ in range(4)} == {"IN_PROGRESS"}


def test_feed_done_after_configured_seconds(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(feed_seconds_to_done=60)
    feed_id = submit(amazon_api, amazon_emulator, listings_document(amazon_emulator, [feed_message(1, "X", 1)]))
    assert poll(amazon_api, feed_id)["processingStatus"] == "IN_PROGRESS"
    amazon_emulator.advance_clock(61)
    assert poll(amazon_api, feed_id)["processingStatus"] == "DONE"


def test_upload_with_a_different_content_type_is_refused(amazon_api):
    created = amazon_api.post("/feeds/2021-06-30/documents", json={"contentType": JSON_TYPE}).json()
    upload = requests.put(created["url"], data=b"{}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert upload.status_code == 403 and b"SignatureDoesNotMatch" in upload.content


def test_retired_xml_inventory_feed_ends_fatal(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(feed_polls_to_done=1)
    feed_id = submit(
        amazon_api, amazon_emulator, b"<AmazonEnvelope/>", "text/xml; charset=UTF-8", "POST_INVENTORY_AVAILABILITY_DATA"
    )
    assert poll(amazon_api, feed_id)["processingStatus"] == "FATAL"


def test_create_feed_with_unknown_document_is_400(amazon_api):
    answer = amazon_api.post(
        "/feeds/2021-06-30/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": "nope"},
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "InvalidInput"


def test_get_feeds_lists_by_type_and_status_and_cancel_feed_takes_only_queued_feeds(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=1)
    amazon_emulator.set_faults(feed_polls_to_done=3)
    first = submit(amazon_api, amazon_emulator,
                   listings_document(amazon_emulator, [feed_message(1, "DEMO-SKU-001", 2)]))
    amazon_emulator.advance_clock(1)
    second = submit(amazon_api, amazon_emulator,
                    listings_document(amazon_emulator, [feed_message(1, "DEMO-SKU-001", 3)]))
    assert amazon_api.get("/feeds/2021-06-30/feeds").status_code == 400  # feedTypes required
    from tests.connectors.amazon.test_emulator_contract import check

    body = amazon_api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED"}).json()
    check("feeds_2021-06-30.json", "GetFeedsResponse", body)
    assert [feed["feedId"] for feed in body["feeds"]] == [second, first]
    assert amazon_api.delete(f"/feeds/2021-06-30/feeds/{second}").status_code == 200
    cancelled = amazon_api.get("/feeds/2021-06-30/feeds", params={
        "feedTypes": "JSON_LISTINGS_FEED", "processingStatuses": "CANCELLED"}).json()["feeds"]
    assert [feed["feedId"] for feed in cancelled] == [second]
    for _ in range(2):
        status = poll(amazon_api, first)["processingStatus"]
    assert status == "IN_PROGRESS"
    refused = amazon_api.delete(f"/feeds/2021-06-30/feeds/{first}")
    assert refused.status_code == 400 and "only IN_QUEUE" in refused.json()["errors"][0]["message"]
    assert amazon_api.delete("/feeds/2021-06-30/feeds/999").status_code == 404
    bad = amazon_api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED",
                                                            "processingStatuses": "LOST"})
    assert bad.status_code == 400


# ---- stricter where Amazon is strict ---------------------------------------------------------


def create_feed(api, emulator):
    created = api.post("/feeds/2021-06-30/documents", json={"contentType": JSON_TYPE}).json()
    requests.put(created["url"], data=json.dumps(listings_document(emulator, [])).encode(),
                 headers={"Content-Type": JSON_TYPE}, timeout=10)
    return api.post("/feeds/2021-06-30/feeds", json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE],
                                                      "inputFeedDocumentId": created["feedDocumentId"]})


def test_json_listings_feeds_are_limited_to_five_in_five_minutes(amazon_emulator, amazon_api):
    assert [create_feed(amazon_api, amazon_emulator).status_code for _ in range(5)] == [202] * 5
    sixth = create_feed(amazon_api, amazon_emulator)
    assert sixth.status_code == 429, "createFeed's own bucket (burst 15) has tokens: the feed type's limit refused it"
    assert sixth.json()["errors"][0]["code"] == "QuotaExceeded"
    amazon_emulator.advance_clock(299)
    assert create_feed(amazon_api, amazon_emulator).status_code == 429, "still inside the 5-minute window"
    amazon_emulator.advance_clock(2)
    assert create_feed(amazon_api, amazon_emulator).status_code == 202


def test_a_patch_accepted_then_rejected_changes_nothing_and_the_listing_says_why(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=3, handling_days=2)
    amazon_emulator.fault_plan.script("patchListingsItem", "accepted_then_rejected")
    answer = patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(12, 2))
    assert answer.status_code == 200 and answer.json()["status"] == "ACCEPTED" and answer.json()["issues"] == []
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 3
    shown = amazon_api.get(f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/DEMO-SKU-001",
                           params={"marketplaceIds": MARKETPLACE, "includedData": "issues,fulfillmentAvailability"})
    assert [(i["code"], i["severity"]) for i in shown.json()["issues"]] == [("4000005", "ERROR")]
    assert shown.json()["fulfillmentAvailability"][0]["quantity"] == 3
    patch(amazon_api, amazon_emulator, "DEMO-SKU-001", value=availability(12, 2))  # sent again, it lands
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 12
    assert amazon_emulator.listing("DEMO-SKU-001")["issues"] == []
