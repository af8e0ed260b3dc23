"""The `amazon_emulator` fixture: one local SP-API emulator per test session, reset before each test.

The handle (connectors.amazon.emulator.EmulatorServer) offers:
    .url, .seller_id, .marketplace_id, .client_id, .client_secret, .refresh_token
    .load(response_dict) -> order ids        seed from a getOrders / searchOrders-shaped dict
    .make_order(**overrides) -> order id     e.g. status=, items=[{"SellerSKU", "QuantityOrdered"}], is_prime=,
                                             ship_service_level=, latest_ship_date=, purchase_date=, promotion=
    .cancel_order(order_id)                  visible to the next getOrders poll
    .confirmations(order_id)                 packageDetail dicts Amazon accepted
    .add_listing(sku, quantity=0, handling_days=2, product_type="PRODUCT"), .listing(sku)
    .add_settlement_report(text, created=None) -> report id
    .set_faults(error_rate=, latency_ms=, throttle_all=, html_502_rate=, feed_polls_to_done=,
                feed_seconds_to_done=, stuck_feeds=, quota_multiplier=)
    .configure(token_ttl=, lag_seconds=), .advance_clock(seconds), .order(order_id), .requests
"""

import sys

import pytest
import requests

from connectors.amazon.emulator import EmulatorServer


@pytest.fixture(scope="session")
def amazon_emulator_server():
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def amazon_emulator(amazon_emulator_server):
    """A clean emulator: no orders, listings, feeds, reports or faults; full quota buckets."""
    amazon_emulator_server.reset()
    token_client = sys.modules.get("sp_api.auth.access_token_client")
    if token_client is not None:
        token_client.cache.clear()  # python-amazon-sp-api caches LWA tokens per process
    yield amazon_emulator_server
    amazon_emulator_server.reset()


class EmulatorSession(requests.Session):
    """`requests` aimed at the emulator: paths are relative to its URL and carry a valid LWA access token."""

    def __init__(self, emulator):
        super().__init__()
        self.base_url = emulator.url
        self.headers["x-amz-access-token"] = self.new_access_token(emulator)

    def new_access_token(self, emulator):
        answer = requests.post(
            f"{emulator.url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": emulator.refresh_token,
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 10)
        return super().request(method, self.base_url + url if url.startswith("/") else url, *args, **kwargs)


@pytest.fixture
def amazon_api(amazon_emulator):
    """A requests session for raw SP-API calls against the clean emulator."""
    with EmulatorSession(amazon_emulator) as session:
        yield session
