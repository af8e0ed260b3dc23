"""Seeding and inspecting the emulator over HTTP and through `manage.py amazon_emulator`."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

MARKETPLACE = "A1F83G8C2ARO7P"
LONG_AGO = "2020-01-01T00:00:00Z"
V0_ORDER = {
    "AmazonOrderId": "203-1234567-7654321",
    "PurchaseDate": "2026-01-10T09:30:00Z",
    "LastUpdateDate": "2026-01-10T09:35:00Z",
    "OrderStatus": "Unshipped",
    "FulfillmentChannel": "MFN",
    "MarketplaceId": MARKETPLACE,
    "SalesChannel": "Amazon.co.uk",
    "OrderItems": [
        {"ASIN": "B0TEST0001", "OrderItemId": "11111111111111", "SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}
    ],
}


def admin(emulator, method, path, **kwargs):
    return requests.request(method, f"{emulator.url}/_emulator{path}", timeout=10, **kwargs)


def test_orders_posted_in_get_orders_shape_are_served(amazon_emulator, amazon_api):
    answer = admin(amazon_emulator, "POST", "/orders", json={"payload": {"Orders": [V0_ORDER]}})
    assert answer.status_code == 201 and answer.json() == {"orderIds": [V0_ORDER["AmazonOrderId"]]}
    items = amazon_api.get(f"/orders/v0/orders/{V0_ORDER['AmazonOrderId']}/orderItems").json()["payload"]["OrderItems"]
    order = amazon_api.get(f"/orders/v0/orders/{V0_ORDER['AmazonOrderId']}").json()["payload"]
    assert items[0]["QuantityShipped"] == 0
    assert (order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (0, 2)


def test_bad_seed_is_refused_whole_with_the_place_of_the_problem(amazon_emulator):
    broken = dict(V0_ORDER, AmazonOrderId="203-0000000-0000002", PurchaseDate="10/01/2026")
    answer = admin(amazon_emulator, "POST", "/orders", json={"payload": {"Orders": [V0_ORDER, broken]}})
    assert answer.status_code == 400
    assert "Orders[1]: PurchaseDate" in answer.json()["errors"][0]["message"]
    assert V0_ORDER["AmazonOrderId"] not in amazon_emulator.state.orders


def test_generate_cancel_and_read_confirmations_over_http(amazon_emulator, amazon_api):
    made = admin(amazon_emulator, "POST", "/orders/generate", json={"status": "Unshipped", "is_prime": True}).json()[
        "orderIds"
    ]
    order_id = made[0]
    item_id = amazon_emulator.order(order_id)["OrderItems"][0]["OrderItemId"]
    detail = {
        "packageReferenceId": "7",
        "carrierCode": "Yodel",
        "trackingNumber": "JD0002",
        "shipDate": amazon_emulator.order(order_id)["PurchaseDate"],
        "orderItems": [{"orderItemId": item_id, "quantity": 1}],
    }
    amazon_api.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={"marketplaceId": MARKETPLACE, "packageDetail": detail},
    )
    packages = admin(amazon_emulator, "GET", f"/orders/{order_id}/confirmations").json()["packages"]
    assert [p["packageReferenceId"] for p in packages] == ["7"]
    other = admin(amazon_emulator, "POST", "/orders/generate", json={}).json()["orderIds"][0]
    assert admin(amazon_emulator, "POST", f"/orders/{other}/cancel").status_code == 204
    assert amazon_emulator.order(other)["OrderStatus"] == "Canceled"
    assert admin(amazon_emulator, "POST", "/orders/nope/cancel").status_code == 404


def test_generate_one_order_over_http_parses_dates_and_refuses_unknown_options(amazon_emulator):
    made = admin(amazon_emulator, "POST", "/orders/generate", json={"purchase_date": "2026-01-05T08:00:00Z"})
    typo = admin(amazon_emulator, "POST", "/orders/generate", json={"is_primo": True})
    bad_date = admin(amazon_emulator, "POST", "/orders/generate", json={"latest_ship_date": "tomorrow"})
    assert amazon_emulator.order(made.json()["orderIds"][0])["PurchaseDate"] == "2026-01-05T08:00:00Z"
    assert typo.status_code == 400 and "is_primo" in typo.json()["errors"][0]["message"]
    assert bad_date.status_code == 400 and "latest_ship_date" in bad_date.json()["errors"][0]["message"]


def test_listings_and_settlement_reports_over_http(amazon_emulator):
    created = admin(
        amazon_emulator, "POST", "/listings", json={"sku": "DEMO-SKU-007", "quantity": 4, "handling_days": 1}
    )
    assert created.status_code == 201 and created.json()["quantity"] == 4
    assert admin(amazon_emulator, "GET", "/listings/DEMO-SKU-007").json()["handling_days"] == 1
    assert admin(amazon_emulator, "GET", "/listings/NOPE").status_code == 404
    report = admin(amazon_emulator, "POST", "/reports", json={"text": "settlement-id\n42\n"})
    assert report.status_code == 201 and report.json()["reportId"] in amazon_emulator.state.reports


def test_demo_stream_mixes_prime_multi_line_promotions_cancellations_and_an_unknown_sku(amazon_emulator):
    ids = amazon_emulator.generate(60)
    orders = [amazon_emulator.order(order_id) for order_id in ids]
    skus = {item["SellerSKU"] for order in orders for item in order["OrderItems"]}
    assert len(set(ids)) == 60
    assert any(o["IsPrime"] for o in orders) and not all(o["IsPrime"] for o in orders)
    assert any(len(o["OrderItems"]) > 1 for o in orders)
    assert any(i["QuantityOrdered"] > 1 for o in orders for i in o["OrderItems"])
    assert any(i.get("PromotionIds") for o in orders for i in o["OrderItems"])
    assert any(o["OrderStatus"] == "Canceled" for o in orders)
    assert {o["ShipServiceLevel"] for o in orders} == {"Std UK Dom", "Exp UK Dom", "NextDay UK Dom"}
    assert "DEMO-SKU-999" in skus and skus - {"DEMO-SKU-999"} <= {f"DEMO-SKU-{n:03d}" for n in range(1, 13)}
    assert all(o["ShippingAddress"]["CountryCode"] == "GB" for o in orders)


def test_load_command_sends_a_file_to_a_running_emulator(amazon_emulator, tmp_path):
    search_shape = {
        "orders": [
            {
                "orderId": "204-7654321-1234567",
                "createdTime": "2026-01-11T10:00:00Z",
                "lastUpdatedTime": "2026-01-11T10:00:00Z",
                "salesChannel": {
                    "channelName": "AMAZON",
                    "marketplaceId": MARKETPLACE,
                    "marketplaceName": "Amazon.co.uk",
                },
                "fulfillment": {
                    "fulfillmentStatus": "UNSHIPPED",
                    "fulfilledBy": "MERCHANT",
                    "fulfillmentServiceLevel": "NEXT_DAY",
                },
                "orderItems": [
                    {
                        "orderItemId": "22222222222222",
                        "quantityOrdered": 1,
                        "product": {
                            "asin": "B0TEST0002",
                            "sellerSku": "DEMO-SKU-002",
                            "price": {"unitPrice": {"amount": "24.50", "currencyCode": "GBP"}},
                        },
                    }
                ],
            }
        ]
    }
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(search_shape))
    call_command("amazon_emulator", "load", str(path), "--url", amazon_emulator.url)
    order = amazon_emulator.order("204-7654321-1234567")
    assert (order["OrderStatus"], order["ShipmentServiceLevelCategory"]) == ("Unshipped", "NextDay")
    assert order["OrderItems"][0]["ItemPrice"] == {"CurrencyCode": "GBP", "Amount": "24.50"}
    path.write_text("{}")
    with pytest.raises(CommandError, match="no orders found"):
        call_command("amazon_emulator", "load", str(path), "--url", amazon_emulator.url)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_command_runs_with_demo_data_until_interrupted():
    port = free_port()
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "HUB_DEBUG": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "amazon_emulator",
            "--port",
            str(port),
            "--generate",
            "5",
            "--quota-multiplier",
            "10",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                listing = requests.get(f"{url}/_emulator/listings/DEMO-SKU-012", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert listing.json()["quantity"] == 0
        assert requests.get(f"{url}/_emulator/faults", timeout=1).json()["quota_multiplier"] == 10
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert b"5 order(s) generated" in output and b"Stopping" in output
