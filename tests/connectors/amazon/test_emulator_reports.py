"""Settlement reports on the emulator: listed by getReports, downloaded gzipped, never requestable."""

import datetime as dt
import gzip
import json

import pytest
import requests

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
TEXT = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\n"
    "11223344556\t2026-02-01T00:00:00+00:00\t2026-02-15T00:00:00+00:00\t2026-02-17T00:00:00+00:00\t1234.56\tGBP\n"
)


def test_settlement_report_is_listed_and_its_document_gunzips_to_the_text(amazon_emulator, amazon_api):
    report_id = amazon_emulator.add_settlement_report(TEXT)
    listed = amazon_api.get(
        "/reports/2021-06-30/reports", params={"reportTypes": SETTLEMENT, "processingStatuses": "DONE"}
    ).json()
    report = listed["reports"][0]
    assert (report["reportId"], report["processingStatus"]) == (report_id, "DONE")
    document = amazon_api.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    assert document["compressionAlgorithm"] == "GZIP"
    download = requests.get(document["url"], timeout=10)
    assert "charset" not in download.headers["Content-Type"]
    assert gzip.decompress(download.content).decode("utf-8") == TEXT


def test_get_reports_pages_newest_first_with_next_token_as_only_parameter(amazon_emulator, amazon_api):
    now = dt.datetime.now(dt.UTC)
    ids = [amazon_emulator.add_settlement_report(TEXT, created=now - dt.timedelta(days=days)) for days in (30, 20, 10)]
    first = amazon_api.get("/reports/2021-06-30/reports", params={"reportTypes": SETTLEMENT, "pageSize": 2}).json()
    mixed = amazon_api.get(
        "/reports/2021-06-30/reports", params={"nextToken": first["nextToken"], "reportTypes": SETTLEMENT}
    )
    second = amazon_api.get("/reports/2021-06-30/reports", params={"nextToken": first["nextToken"]}).json()
    assert [r["reportId"] for r in first["reports"] + second["reports"]] == ids[::-1]
    assert mixed.status_code == 400 and "only parameter" in mixed.json()["errors"][0]["message"]


def test_get_reports_filters_by_created_since_and_keeps_90_days(amazon_emulator, amazon_api):
    now = dt.datetime.now(dt.UTC)
    amazon_emulator.add_settlement_report(TEXT, created=now - dt.timedelta(days=120))
    old = amazon_emulator.add_settlement_report(TEXT, created=now - dt.timedelta(days=40))
    recent = amazon_emulator.add_settlement_report(TEXT, created=now - dt.timedelta(days=5))
    everything = amazon_api.get("/reports/2021-06-30/reports", params={"reportTypes": SETTLEMENT}).json()
    since = amazon_api.get(
        "/reports/2021-06-30/reports",
        params={"reportTypes": SETTLEMENT, "createdSince": (now - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    ).json()
    assert [r["reportId"] for r in everything["reports"]] == [recent, old]
    assert [r["reportId"] for r in since["reports"]] == [recent]


def test_get_reports_without_report_types_is_400(amazon_api):
    answer = amazon_api.get("/reports/2021-06-30/reports")
    assert answer.status_code == 400 and "reportTypes" in answer.json()["errors"][0]["message"]


def test_create_report_for_settlement_is_refused_with_invalid_input(amazon_api):
    answer = amazon_api.post(
        "/reports/2021-06-30/reports", json={"reportType": SETTLEMENT, "marketplaceIds": ["A1F83G8C2ARO7P"]}
    )
    error = answer.json()["errors"][0]
    assert answer.status_code == 400
    assert error["code"] == "InvalidInput"
    assert error["message"] == "Request for report type 1118 is not allowed at this time."


def test_unknown_report_document_is_404(amazon_api):
    assert amazon_api.get("/reports/2021-06-30/documents/amzn1.nothing").status_code == 404


def test_presigned_url_expires_after_five_minutes(amazon_emulator, amazon_api):
    amazon_emulator.add_settlement_report(TEXT)
    report = amazon_api.get("/reports/2021-06-30/reports", params={"reportTypes": SETTLEMENT}).json()["reports"][0]
    url = amazon_api.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()["url"]
    amazon_emulator.advance_clock(301)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403 and b"expired" in expired.content


# ---- the seller performance report (Amazon's own account-health figures) ------------------------------


def performance_report(api, emulator):
    report_id = api.post("/reports/2021-06-30/reports", json={"reportType": "GET_V2_SELLER_PERFORMANCE_REPORT",
                                                              "marketplaceIds": [emulator.marketplace_id]}).json()
    report_id = report_id["reportId"]
    for _ in range(3):
        report = api.get(f"/reports/2021-06-30/reports/{report_id}").json()
        if report["processingStatus"] == "DONE":
            break
    document = api.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    return json.loads(gzip.decompress(requests.get(document["url"], timeout=10).content))


def shipped(api, emulator, order_id, reference, carrier="Royal Mail"):
    item = emulator.order(order_id)["OrderItems"][0]
    ship_date = (emulator.state.now() - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = api.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json={
        "marketplaceId": emulator.marketplace_id, "packageDetail": {
            "packageReferenceId": reference, "carrierCode": carrier, "trackingNumber": f"TT{reference}23456785GB",
            "shipDate": ship_date, "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": 1}],
            **({"carrierName": "Local courier"} if carrier == "Other" else {})}})
    assert answer.status_code == 204, answer.text


def test_seller_performance_report_counts_late_untracked_and_seller_cancelled_orders(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(quota_multiplier=20)
    amazon_emulator.configure(token_ttl=10 * 86400)  # the clock moves days
    amazon_api.headers["x-amz-access-token"] = amazon_api.new_access_token(amazon_emulator)
    now = amazon_emulator.state.now()
    due = now + dt.timedelta(hours=1)
    on_time, untracked, late, cancelled = (
        amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}], latest_ship_date=due,
                                   purchase_date=now - dt.timedelta(hours=3)) for _ in range(4))
    shipped(amazon_api, amazon_emulator, on_time, "1")
    shipped(amazon_api, amazon_emulator, untracked, "2", carrier="Other")
    amazon_emulator.cancel_order(cancelled, reason="NoInventory")  # the seller could not fulfil it
    amazon_emulator.advance_clock(2 * 3600)  # past the ship-by
    shipped(amazon_api, amazon_emulator, late, "3")
    amazon_emulator.advance_clock(2 * 86400)  # the report covers whole days up to yesterday
    report = performance_report(amazon_api, amazon_emulator)
    [metrics] = report["performanceMetrics"]
    lsr, vtr, cancel = (metrics[name] for name in ("lateShipmentRate", "validTrackingRate",
                                                   "preFulfillmentCancellationRate"))
    assert (lsr["lateShipmentCount"], lsr["orderCount"], lsr["status"]) == (1, 3, "BAD")
    assert (vtr["validTrackingCount"], vtr["shipmentCount"], vtr["status"]) == (2, 3, "BAD")
    assert (cancel["cancellationCount"], cancel["orderCount"], cancel["status"]) == (1, 4, "BAD")
    assert lsr["rate"] == pytest.approx(1 / 3, abs=1e-5) and lsr["targetValue"] == 0.04
    assert report["accountStatuses"] == [{"marketplaceId": amazon_emulator.marketplace_id, "status": "AT_RISK"}]
    assert lsr["reportingDateRange"]["reportingDateTo"].endswith("T23:59Z")


def test_a_set_account_status_is_reported_whatever_the_figures(amazon_emulator, amazon_api):
    amazon_emulator.configure(account_status="DEACTIVATED")
    report = performance_report(amazon_api, amazon_emulator)
    assert report["accountStatuses"][0]["status"] == "DEACTIVATED"
    assert report["performanceMetrics"][0]["lateShipmentRate"]["orderCount"] == 0
