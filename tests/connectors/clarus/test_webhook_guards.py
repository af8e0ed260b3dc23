"""The guards in front of inbound webhooks: rate limit per address, JSON only, a size limit, and an
HMAC signature for connections whose sender signs; and the emulator's redelivery after a non-2xx."""

import http.server
import json
import threading

import pytest
from django.test import override_settings
from django.urls import reverse

from connectors.clarus.emulator import ClarusEmulator
from connectors.clarus.emulator.webhooks import WebhookSender
from connectors.inbound import sign
from integration_hub.sync import engine
from integration_hub.sync.models import WorkItem
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.factories import OrderFactory, OrderLineFactory, SellerAccountFactory
from tests.fixtures_clarus import clarus_connection_for

pytestmark = pytest.mark.django_db

STOCK_EVENT = json.dumps({"event": "stock_adjustment", "data": {"type": "stock_balances", "id": 5}})


def post(client, connection, body=STOCK_EVENT, *, token=None, content_type="application/json", address="192.0.2.1",
         **headers):
    headers.setdefault("X-ClarusWMS-Subdomain", connection.options["subdomain"])
    url = reverse("connectors:clarus-webhook", args=[token or connection.webhook_token])
    return client.post(url, body, content_type=content_type, headers=headers, REMOTE_ADDR=address)


def test_only_json_is_taken(client, clarus_connection):
    assert post(client, clarus_connection).status_code == 200
    response = post(client, clarus_connection, content_type="text/plain")
    assert response.status_code == 415 and "application/json" in response.json()["result"]
    assert post(client, clarus_connection, "a=1", content_type="application/x-www-form-urlencoded").status_code == 415


@override_settings(WEBHOOK_MAX_BYTES=2048)
def test_a_body_over_the_limit_is_refused_unread(client, clarus_connection):
    padded = json.dumps({"event": "stock_adjustment", "data": {"type": "stock_balances", "id": 5, "x": "y" * 4000}})
    response = post(client, clarus_connection, padded)
    assert response.status_code == 413 and "2048" in response.json()["result"]
    assert post(client, clarus_connection).status_code == 200


@override_settings(WEBHOOK_RATE_PER_MINUTE=3)
def test_deliveries_are_rate_limited_per_address_guessed_tokens_included(client, clarus_connection):
    statuses = [post(client, clarus_connection).status_code for _ in range(2)]
    statuses.append(post(client, clarus_connection, token="guessing").status_code)
    limited = post(client, clarus_connection)
    assert statuses == [200, 200, 404] and limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert post(client, clarus_connection, token="guessing-more").status_code == 429  # no more guesses either
    assert post(client, clarus_connection, address="198.51.100.9").status_code == 200  # another sender


def test_a_signing_connection_refuses_unsigned_and_wrongly_signed_deliveries(client, clarus_connection):
    clarus_connection.webhook_signing_key = "whsec-test-key-1"
    clarus_connection.save()
    body = STOCK_EVENT.encode()
    unsigned = post(client, clarus_connection, body)
    assert unsigned.status_code == 401 and "X-Hub-Signature-256" in unsigned.json()["result"]
    wrong = post(client, clarus_connection, body, **{"X-Hub-Signature-256": sign("another-key", body)})
    assert wrong.status_code == 401
    tampered = post(client, clarus_connection, body.replace(b"5", b"6"), **{"X-Hub-Signature-256": sign(
        "whsec-test-key-1", body)})
    assert tampered.status_code == 401
    assert post(client, clarus_connection, body, **{"X-Hub-Signature-256": sign("whsec-test-key-1", body)}
                ).status_code == 200
    clarus_connection.options = {**clarus_connection.options, "webhook_signature_header": "X-Signature"}
    clarus_connection.save()
    assert post(client, clarus_connection, body, **{"X-Signature": sign("whsec-test-key-1", body)}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_signed_deliveries_from_the_emulator_reach_the_hub_end_to_end(live_server, monkeypatch):
    monkeypatch.setattr("connectors.clarus.emulator.webhooks.REDELIVERY_DELAY", 0.01)
    emulator = ClarusEmulator(deterministic=True).start()
    try:
        tenant = emulator.add_tenant("signed", "signed-client", "signed-secret")
        connection = clarus_connection_for(emulator, tenant)
        connection.webhook_signing_key = "whsec-e2e"
        connection.save()
        url = live_server.url + reverse("connectors:clarus-webhook", args=[connection.webhook_token])
        tenant.set_webhook_url(url, signing_key="whsec-e2e")
        from connectors.clarus.client import ClarusBackOffice

        account = SellerAccountFactory(back_office=connection)
        tenant.add_item("SIGNED-1", on_hand=5)

        def dispatch_new_order(n):
            order_id = amazon_order_id()
            OrderLineFactory(order=OrderFactory(account=account, amazon_order_id=order_id),
                             order_item_id=f"7500000000000{n}")
            ClarusBackOffice(connection).create_sales_order(sales_order(order_id, tenant.ship_method,
                                                                        [(f"7500000000000{n}", "SIGNED-1", 1)]))
            tenant.dispatch(order_id)
            assert emulator.wait_for_webhooks()

        dispatch_new_order(1)
        assert [status for *_, status in emulator.webhooks.delivered] == [202]
        engine.run_next("shipments")
        assert WorkItem.objects.get(kind="read_dispatch").state == "done"
        tenant.set_webhook_url(url, signing_key="stale-key")  # the key rotated on one side only
        dispatch_new_order(2)
        refused = [status for *_, status in emulator.webhooks.delivered[1:]]
        assert refused == [401] * 6  # refused, redelivered five times, refused each time
        assert WorkItem.objects.filter(kind="read_dispatch").count() == 1
    finally:
        emulator.stop()


def test_the_emulator_redelivers_after_a_non_2xx_answer():
    answers = [503, 429, 200]
    seen = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            seen.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(answers[len(seen) - 1] if len(seen) <= len(answers) else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sender = WebhookSender(deterministic=True)
        sender.send(f"http://127.0.0.1:{server.server_port}/", "stock_adjustment", {}, {"type": "stock_balances"})
        assert sender.flush(timeout=10)
        assert [status for *_, status in sender.delivered] == [503, 429, 200]
        assert len(set(seen)) == 1  # the same delivery each time
    finally:
        server.shutdown()
