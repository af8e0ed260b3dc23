"""The demo's order stream (`amazon_emulator --stream SECONDS`): new orders keep arriving, visible to polling."""

import datetime as dt
import time

from connectors.amazon.emulator.generator import CATALOGUE, UNKNOWN_SKU
from connectors.demo_floor import every

MARKETPLACE = "A1F83G8C2ARO7P"


def polled_ids(api, since):
    """Order ids a getOrders poll from `since` returns (as the hub's next poll would ask)."""
    payload = api.get("/orders/v0/orders", params={
        "MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ")}).json()["payload"]
    return [order["AmazonOrderId"] for order in payload["Orders"]]


def test_an_arriving_order_is_a_demo_order_the_next_poll_sees(amazon_emulator, amazon_api):
    order_id = amazon_emulator.arriving_order()

    order = amazon_emulator.order(order_id)
    assert {item["SellerSKU"] for item in order["OrderItems"]} <= set(CATALOGUE) | {UNKNOWN_SKU}
    placed = dt.datetime.fromisoformat(order["PurchaseDate"])
    # Just outside the two-minute blind spot: a poll made a few minutes ago has not read past it.
    assert dt.timedelta(minutes=2) < dt.datetime.now(dt.UTC) - placed < dt.timedelta(minutes=4)
    assert polled_ids(amazon_api, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)) == [order_id]


def test_the_stream_loop_adds_orders_until_stopped(amazon_emulator, amazon_api):
    stop = every(0.02, amazon_emulator.arriving_order, name="test-order-stream", jitter=0.3)
    deadline = time.monotonic() + 5
    while len(polled_ids(amazon_api, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))) < 3:
        assert time.monotonic() < deadline, "the stream added fewer than 3 orders in 5 seconds"
        time.sleep(0.05)
    stop()

    streamed = polled_ids(amazon_api, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    time.sleep(0.1)
    assert polled_ids(amazon_api, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)) == streamed
    assert len(set(streamed)) == len(streamed)
