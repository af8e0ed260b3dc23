"""AmazonConnector against the SP-API emulator over loopback HTTP, with the real python-amazon-sp-api."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from connectors.amazon.calls import Caller
from connectors.amazon.client import AmazonConnector
from connectors.amazon.records import PackageConfirmation, QuantityUpdate
from connectors.base import ConnectorError, ThrottledError
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.choices import OrderStatus
from tests.factories import SellerAccountFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def rows(operation=None):
    found = Exchange.objects.order_by("pk")
    return list(found.filter(operation=operation) if operation else found)


def package(ref, items, carrier="Royal Mail"):
    return PackageConfirmation(package_reference_id=ref, carrier_code=carrier, carrier_name="",
                               shipping_method="Tracked 24", tracking_number=f"RR{ref:09d}GB",
                               ship_date=timezone.now(), items=items)


# ---- orders ----------------------------------------------------------------------------------


def test_search_orders_reads_every_page_and_returns_amazons_watermark(connector, amazon_emulator):
    amazon_emulator.set_faults(quota_multiplier=100)  # searchOrders is 1 per 3 minutes by default
    made = {amazon_emulator.make_order() for _ in range(130)}
    since = timezone.now() - dt.timedelta(days=1)
    orders, watermark = connector.search_orders(since)
    assert {o.amazon_order_id for o in orders} == made
    pages = [r for r in amazon_emulator.requests if r[1] == "/orders/2026-01-01/orders"]
    assert pages == [("GET", "/orders/2026-01-01/orders", 200)] * 2
    # Amazon's lastUpdatedBefore (two minutes before its now), not our clock or the newest order.
    assert watermark.tzinfo is not None
    assert timezone.now() - dt.timedelta(minutes=3) < watermark < timezone.now() - dt.timedelta(seconds=100)
    again, _ = connector.search_orders(watermark)
    assert again == []
    assert [r.attempt for r in rows("searchOrders")] == [1, 1, 1]


def test_under_compressed_time_the_hub_believes_the_documented_burst_and_is_never_refused(
        connector, amazon_emulator, settings):
    """Found with bench_intake: with Amazon's rates compressed and its bursts as documented, the hub took the
    faster rate in x-amzn-RateLimit-Limit for a raised plan and believed a burst of 600 searches, not 20."""
    amazon_emulator.set_faults(quota_time_factor=30)
    settings.AMAZON_QUOTA_TIME_FACTOR = 30
    since = timezone.now() - dt.timedelta(days=1)
    for _ in range(20):
        connector.search_orders_page(since)
    rate, burst, learned = connector.limiter.plan("searchOrders")
    assert learned and rate == pytest.approx(0.0056 * 30) and burst == 20
    assert connector.limiter.tokens_left("searchOrders") < 1 + rate * 5  # spent, as Amazon's is
    assert [status for _, path, status in amazon_emulator.requests if path.endswith("/orders")] == [200] * 20


def test_under_compressed_time_windows_are_cut_to_the_millisecond(connector, amazon_emulator, settings):
    """Found with bench_intake: at x30 a search window lasts a few seconds, and both the emulator's whole-second
    stamps and the hub's whole-second lastUpdatedAfter re-read up to a second of orders (a third of a page)
    in every window. Under compressed time both keep milliseconds; at real time they stay as Amazon writes them."""
    amazon_emulator.set_faults(quota_time_factor=30)
    settings.AMAZON_QUOTA_TIME_FACTOR = 30
    second = amazon_emulator.state.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    _, late = (amazon_emulator.make_order(purchase_date=second + dt.timedelta(milliseconds=ms)) for ms in (100, 700))
    assert amazon_emulator.order(late)["LastUpdateDate"].endswith(".700Z")
    page = connector.search_orders_page(second + dt.timedelta(milliseconds=400))
    assert [order.amazon_order_id for order in page.orders] == [late]
    assert page.window_end.microsecond  # Amazon's end of the window, to the millisecond
    amazon_emulator.set_faults(quota_time_factor=1)
    assert amazon_emulator.state.stamp(second + dt.timedelta(milliseconds=700)) == second.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_get_order_maps_an_order_and_a_cancellation_to_the_hub_enum(connector, amazon_emulator):
    order_id = amazon_emulator.make_order(status="Unshipped", is_prime=True,
                                          items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}])
    order = connector.get_order(order_id)
    assert (order.amazon_order_id, order.status, order.raw_status) == (order_id, OrderStatus.UNSHIPPED, "UNSHIPPED")
    assert order.is_prime and order.fulfillment_channel == "MFN" and order.marketplace_id == "A1F83G8C2ARO7P"
    assert order.purchase_date.tzinfo is not None and order.latest_ship_date.tzinfo is not None
    assert order.address.postcode and order.address.line1 and order.buyer_name
    [line] = order.lines
    assert (line.sku, line.quantity_ordered, line.item_price) == ("DEMO-SKU-001", 2, Decimal("29.98"))
    assert isinstance(order.order_total, Decimal)
    amazon_emulator.cancel_order(order_id)
    assert connector.get_order(order_id).status == OrderStatus.CANCELLED


def test_an_unknown_order_is_a_permanent_error_with_amazons_message(connector, account):
    with pytest.raises(ConnectorError) as failed:
        connector.get_order("202-0000000-0000000")
    assert failed.value.permanent and failed.value.status == 404
    assert "getOrder" in failed.value.message
    account.refresh_from_db()
    assert account.consecutive_failures == 0  # one bad order id says nothing about the account


def test_split_shipment_confirms_each_package(connector, amazon_emulator):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1},
                                                 {"SellerSKU": "DEMO-SKU-002", "QuantityOrdered": 2}])
    first, second = [line.order_item_id for line in connector.get_order(order_id).lines]
    connector.confirm_shipment(order_id, "A1F83G8C2ARO7P", package(1, [(first, 1)]))
    connector.confirm_shipment(order_id, "A1F83G8C2ARO7P", package(2, [(second, 2)], carrier="DPD"))
    confirmed = amazon_emulator.confirmations(order_id)
    assert [(p["packageReferenceId"], p["carrierCode"]) for p in confirmed] == [("1", "Royal Mail"), ("2", "DPD")]
    assert connector.get_order(order_id).status == OrderStatus.SHIPPED
    assert [(r.http_status, r.outcome) for r in rows("confirmShipment")] == [(204, "ok"), (204, "ok")]


def test_a_rejected_confirmation_is_permanent_and_keeps_amazons_message(connector, amazon_emulator):
    order_id = amazon_emulator.make_order()
    item = connector.get_order(order_id).lines[0].order_item_id
    with pytest.raises(ConnectorError) as failed:
        connector.confirm_shipment(order_id, "A1F83G8C2ARO7P", package(1, [(item, 1)], carrier="Pigeon Post"))
    assert failed.value.permanent and failed.value.status == 400
    assert "'Pigeon Post' is not an accepted carrier code" in failed.value.message
    [row] = rows("confirmShipment")
    assert (row.http_status, row.outcome, row.attempt) == (400, "permanent", 1)
    assert "Pigeon Post" in row.error


# ---- tokens ----------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_the_call_repeated(connector, amazon_emulator):
    order_id = amazon_emulator.make_order()
    connector.get_order(order_id)
    amazon_emulator.advance_clock(3700)  # Amazon expires the token while our cache still holds it
    connector.get_order(order_id)
    assert len(rows("lwaToken")) == 2
    assert [(r.http_status, r.outcome) for r in rows("getOrder")] == [(200, "ok"), (403, "permanent"), (200, "ok")]


def test_workers_share_one_access_token(account, amazon_emulator, fast_retries):
    """RQ forks a process per job: the token must outlive the connector that fetched it."""
    first_order = amazon_emulator.make_order()
    from sp_api.auth import access_token_client

    for _ in range(3):
        access_token_client.cache.clear()  # a new process starts with nothing in memory
        amazon = AmazonConnector(account)
        amazon.get_order(first_order)
        amazon.close()
    assert len(rows("lwaToken")) == 1


def test_a_process_reads_and_decrypts_its_token_once(account, amazon_emulator, fast_retries, monkeypatch):
    """A worker sends every request with a token: it keeps the one it read until it expires or is refused."""
    from connectors import shared_cache

    reads = []
    real_read = shared_cache.read_token
    monkeypatch.setattr(shared_cache, "read_token", lambda key: reads.append(key) or real_read(key))
    order_id = amazon_emulator.make_order()
    amazon = AmazonConnector(account)
    for _ in range(3):
        amazon.get_order(order_id)
    assert len(rows("lwaToken")) == 1
    assert len(reads) <= 2  # before the login and under its lock; never once per request
    shared_cache._in_memory.clear()  # another process: it reads the token from Redis, once
    reads.clear()
    AmazonConnector(account).get_order(order_id)
    AmazonConnector(account).get_order(order_id)
    assert len(reads) == 1 and len(rows("lwaToken")) == 1


def test_a_short_lived_token_is_renewed_before_it_expires(account, amazon_emulator, fast_retries):
    amazon_emulator.configure(token_ttl=2)
    order_id = amazon_emulator.make_order()
    amazon = AmazonConnector(account)
    amazon.get_order(order_id)
    amazon.get_order(order_id)
    time.sleep(1.1)  # past half the lifetime: renewed before Amazon would refuse it
    amazon.get_order(order_id)
    assert len(rows("lwaToken")) == 2
    assert all(r.outcome == "ok" for r in rows("getOrder"))


def test_a_refused_refresh_token_is_permanent_and_marks_the_account(account, amazon_emulator):
    account.refresh_token = "Atzr|revoked"
    account.save()
    with pytest.raises(ConnectorError) as failed:
        AmazonConnector(account).get_order("202-0000000-0000000")
    assert failed.value.permanent and failed.value.code == "invalid_grant"
    account.refresh_from_db()
    assert account.consecutive_failures == 1 and "lwaToken" in account.last_error
    assert not [r for r in amazon_emulator.requests if r[1].startswith("/orders/")]


# ---- throttling, failures, breaker -----------------------------------------------------------


def test_a_429_drains_the_bucket_then_the_call_waits_and_succeeds(connector, account, amazon_emulator):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 12}])
    item = connector.get_order(order_id).lines[0].order_item_id
    # Another application spends this seller's confirmShipment burst behind our back.
    other = AmazonConnector(SellerAccountFactory(
        seller_id=account.seller_id, region="na", marketplace_ids=account.marketplace_ids,
        lwa_app_id=account.lwa_app_id, lwa_client_secret=account.lwa_client_secret,
        refresh_token=account.refresh_token, endpoint=account.endpoint, token_url=account.token_url))
    for ref in range(1, 11):
        other.confirm_shipment(order_id, "A1F83G8C2ARO7P", package(ref, [(item, 1)]))
    connector.confirm_shipment(order_id, "A1F83G8C2ARO7P", package(11, [(item, 1)]))
    mine = [r for r in rows("confirmShipment") if r.account_id == account.pk]
    assert [(r.attempt, r.http_status) for r in mine] == [(1, 429), (2, 204)]
    assert len(amazon_emulator.confirmations(order_id)) == 11


def test_a_429_storm_ends_in_throttled_error_after_a_few_quick_tries(connector, amazon_emulator):
    amazon_emulator.set_faults(throttle_all=True, quota_multiplier=10)
    with pytest.raises(ThrottledError):
        connector.get_order("202-0000000-0000001")
    assert [(r.attempt, r.http_status, r.outcome) for r in rows("getOrder")] == [
        (n, 429, "transient") for n in range(1, Caller.THROTTLE_TRIES + 1)]


@pytest.mark.parametrize(("faults", "status", "text"), [
    ({"error_rate": 1.0}, None, "Please try again"),
    ({"html_502_rate": 1.0}, 502, "HTTP 502 with a non-JSON body (text/html)"),
])
def test_server_errors_and_html_502_pages_are_transient(connector, amazon_emulator, faults, status, text):
    amazon_emulator.set_faults(**faults)
    with pytest.raises(ConnectorError) as failed:
        connector.get_order("202-0000000-0000001")
    assert not failed.value.permanent and text in failed.value.message
    attempts = rows("getOrder")
    assert len(attempts) == Caller.TRANSIENT_TRIES
    assert all(r.outcome == "transient" and r.http_status >= 500 for r in attempts)
    if status:
        assert {r.http_status for r in attempts} == {status}


def test_breaker_opens_on_repeated_failures_fails_fast_and_closes_after_a_good_probe(
        connector, account, amazon_emulator):
    from connectors.amazon.breaker import CircuitBreaker
    from connectors.models import CircuitState

    order_id = amazon_emulator.make_order()
    amazon_emulator.set_faults(error_rate=1.0)
    for _ in range(2):
        with pytest.raises(ConnectorError):
            connector.get_order(order_id)
    circuit = CircuitState.objects.get(account=account, api="orders")
    assert circuit.state == "open"
    seen = len(amazon_emulator.requests)
    with pytest.raises(ConnectorError, match="circuit open for orders"):
        connector.get_order(order_id)
    assert len(amazon_emulator.requests) == seen  # refused without calling Amazon
    account.refresh_from_db()
    assert account.consecutive_failures == 2 and "Please try again" in account.last_error
    amazon_emulator.set_faults(error_rate=0.0)
    past = timezone.now() - CircuitBreaker.COOL_DOWN
    CircuitState.objects.filter(pk=circuit.pk).update(opened_at=past, updated_at=past)
    assert connector.get_order(order_id).amazon_order_id == order_id
    circuit.refresh_from_db()
    account.refresh_from_db()
    assert (circuit.state, circuit.consecutive_failures) == ("closed", 0)
    assert account.consecutive_failures == 0 and account.last_success_at is not None


# ---- listings and feeds ----------------------------------------------------------------------


def test_quantity_patch_keeps_the_listings_handling_time(connector, amazon_emulator):
    amazon_emulator.add_listing("SKU-1", quantity=0, handling_days=3)
    connector.update_quantity(QuantityUpdate("SKU-1", 7, None))  # handling time read from the listing
    assert (amazon_emulator.listing("SKU-1")["quantity"], amazon_emulator.listing("SKU-1")["handling_days"]) == (7, 3)
    connector.update_quantity(QuantityUpdate("SKU-1", 4, 5))
    assert (amazon_emulator.listing("SKU-1")["quantity"], amazon_emulator.listing("SKU-1")["handling_days"]) == (4, 5)


def test_a_unified_account_pushes_quantity_once_per_region(account, amazon_emulator, fast_retries):
    account.marketplace_ids = ["A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"]
    account.unified_stock = True
    account.save()
    amazon_emulator.add_listing("SKU-EU", handling_days=2)
    AmazonConnector(account).update_quantity(QuantityUpdate("SKU-EU", 9, 2))
    patches = [r for r in amazon_emulator.requests if r[0] == "PATCH"]
    assert len(patches) == 1 and amazon_emulator.listing("SKU-EU")["quantity"] == 9


def test_patching_an_unknown_sku_is_refused_permanently_with_amazons_issue(connector, amazon_emulator):
    with pytest.raises(ConnectorError, match="patchListingsItem NO-SUCH-SKU: Amazon answered INVALID") as failed:
        connector.update_quantity(QuantityUpdate("NO-SUCH-SKU", 1, 2))
    assert failed.value.permanent


def test_feed_issue_for_an_unknown_sku_is_mapped_back_to_that_sku(connector, amazon_emulator):
    amazon_emulator.set_faults(quota_multiplier=10)
    amazon_emulator.add_listing("SKU-A", handling_days=2)
    feed_id = connector.submit_quantity_feed([QuantityUpdate("SKU-A", 5, 2), QuantityUpdate("SKU-GHOST", 3, 2)])
    results = [connector.feed_result(feed_id) for _ in range(4)]
    assert not results[0].done and results[-1].done and results[-1].status == "DONE"
    done = results[-1]
    assert list(done.issues_by_sku) == ["SKU-GHOST"] and done.issues_by_sku["SKU-GHOST"]
    assert done.accepted == 1 and done.errors >= 1
    assert amazon_emulator.listing("SKU-A")["quantity"] == 5
    assert [r.operation for r in rows() if r.operation.endswith("FeedDocument") or r.operation == "createFeed"][:3] == [
        "createFeedDocument", "uploadFeedDocument", "createFeed"]


def test_feeds_keep_to_amazons_five_in_five_minutes_without_being_refused(connector, amazon_emulator):
    amazon_emulator.set_faults(quota_multiplier=10)
    amazon_emulator.add_listing("SKU-A", handling_days=2)
    connector.submit_quantity_feed([QuantityUpdate("SKU-A", 5, 2)])
    asked = len(amazon_emulator.requests)
    with pytest.raises(ThrottledError, match="5 feeds per 5 minutes") as waiting:
        connector.submit_quantity_feed([QuantityUpdate("SKU-A", 6, 2)])
    assert 60 < waiting.value.retry_after <= 76, "the next feed's turn, not a guess"
    assert len(amazon_emulator.requests) == asked, "no document made, nothing sent for a feed that must wait"


def test_a_feed_over_25000_updates_is_refused_before_any_call(connector, amazon_emulator):
    with pytest.raises(ValueError, match="split them into several feeds"):
        connector.submit_quantity_feed([QuantityUpdate(f"S{n}", 1, 1) for n in range(25_001)])
    assert amazon_emulator.requests == [] and rows() == []


# ---- settlement reports ----------------------------------------------------------------------


def test_settlement_reports_are_listed_and_downloaded_gunzipped(connector, amazon_emulator):
    amazon_emulator.set_faults(quota_multiplier=50)
    text = "settlement-id\tsettlement-start-date\ttotal-amount\tcurrency\n1234567\t2026-01-01\t-12,50\tEUR\n"
    report_id = amazon_emulator.add_settlement_report(text)
    [info] = connector.list_settlement_reports(timezone.now() - dt.timedelta(days=30))
    assert info.report_id == str(report_id) and info.created.tzinfo is not None
    assert connector.download_report(info.document_id) == text.encode()
    assert [r.operation for r in rows()][-3:] == ["getReports", "getReportDocument", "downloadReportDocument"]


# ---- the exchange log ------------------------------------------------------------------------


def test_every_attempt_is_logged_without_secrets_or_buyer_data(connector, account, amazon_emulator):
    order_id = amazon_emulator.make_order()
    stored = amazon_emulator.order(order_id)
    connector.get_order(order_id)
    logged = " ".join(f"{r.request_summary} {r.response_summary} {r.error}" for r in rows())
    [token_row] = rows("lwaToken")
    assert token_row.outcome == "ok" and token_row.http_status == 200 and "***" in token_row.request_summary
    for secret in (account.lwa_client_secret, account.refresh_token, stored["BuyerInfo"]["BuyerName"],
                   stored["ShippingAddress"]["AddressLine1"], stored["ShippingAddress"]["Phone"]):
        assert secret not in logged
    [order_row] = rows("getOrder")
    assert (order_row.correlation_id, order_row.http_status, order_row.quota_limit) == (order_id, 200, "0.5")
    assert order_row.latency_ms is not None and order_id in order_row.response_summary


def test_the_default_marketplace_env_var_cannot_redirect_calls(connector, amazon_emulator, monkeypatch):
    monkeypatch.setenv("SP_API_DEFAULT_MARKETPLACE", "US")
    order_id = amazon_emulator.make_order()
    assert AmazonConnector(connector.account).get_order(order_id).amazon_order_id == order_id
    [row] = rows("getOrder")
    assert row.outcome == "ok"
