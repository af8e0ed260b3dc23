"""Clarus connector specifics beyond the shared contract, against the emulator over loopback HTTP."""

import datetime as dt

import pytest

from connectors.base import ConnectorError
from connectors.choices import BackOfficeKind
from connectors.clarus.client import ClarusBackOffice
from connectors.models import BackOfficeConnection
from integration_hub.exchanges.models import Exchange
from tests.concurrency import run_together
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_clarus import clarus_connection_for

pytestmark = pytest.mark.django_db


def send(backoffice, tenant, item_code, quantity=1, line_ref="80000000000001", ship_method=None):
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, ship_method or tenant.ship_method,
                                              [(line_ref, item_code, quantity)]))
    return order_id


def test_bad_options_are_one_permanent_error_naming_each_problem():
    connection = BackOfficeConnection(name="Clarus UK", kind=BackOfficeKind.CLARUS, endpoint="http://x",
                                      options={"subdomain": "acme", "account_id": "one", "tracking_on": "line",
                                               "acount_id": 1})
    with pytest.raises(ConnectorError) as caught:
        ClarusBackOffice(connection)
    message = caught.value.message
    assert caught.value.permanent and "'Clarus UK'" in message
    for problem in ("unknown option 'acount_id'", "missing option 'warehouse_id'", "option 'account_id' must be int",
                    "option 'tracking_on' must be one of"):
        assert problem in message


def test_ship_methods_are_the_carrier_service_names(clarus_backoffice):
    assert {m.code for m in clarus_backoffice.list_ship_methods()} == {
        "Royal Mail Tracked 24", "Royal Mail Tracked 48", "DPD Next Day", "Evri 48", "Parcelforce express24"}


def test_token_is_reused_and_renewed_when_clarus_ends_the_session(clarus_backoffice, clarus_connection,
                                                                 clarus_tenant):
    clarus_tenant.add_item("TOKEN-1")
    clarus_backoffice.list_items()
    clarus_backoffice.list_items()
    tokens = Exchange.objects.filter(connection=clarus_connection, operation="oauth_token")
    assert tokens.count() == 1
    clarus_tenant.revoke_tokens()
    assert [item.item_code for item in clarus_backoffice.list_items()] == ["TOKEN-1"]
    assert tokens.count() == 2
    assert Exchange.objects.filter(connection=clarus_connection, operation="list_products", http_status=401).exists()
    clarus_connection.refresh_from_db()
    assert clarus_connection.consecutive_failures == 0 and not clarus_connection.last_error


@pytest.mark.django_db(transaction=True)
def test_workers_whose_token_was_refused_together_log_in_once(clarus_connection, clarus_tenant):
    """Several processes holding the same revoked token: one logs in, the others use its token
    (each new login would end the session the others had just started)."""
    clarus_tenant.add_item("TOKEN-2")
    ClarusBackOffice(clarus_connection).list_items()
    clarus_tenant.revoke_tokens()

    def worker():
        assert [i.item_code for i in ClarusBackOffice(clarus_connection).list_items()] == ["TOKEN-2"]

    assert run_together(worker, 4) == []
    assert Exchange.objects.filter(connection=clarus_connection, operation="oauth_token").count() == 2


def test_refused_credentials_show_on_the_connection(clarus_emulator, clarus_tenant):
    connection = clarus_connection_for(clarus_emulator, clarus_tenant)
    connection.secret = "not-the-secret"
    connection.save()
    with pytest.raises(ConnectorError) as caught:
        ClarusBackOffice(connection).test_connection()
    assert caught.value.permanent and caught.value.status == 401 and "invalid_client" in caught.value.message
    connection.refresh_from_db()
    assert connection.consecutive_failures == 1


def test_exchange_log_has_every_call_without_secrets_or_buyer_data(clarus_backoffice, clarus_connection,
                                                                  clarus_tenant):
    clarus_tenant.add_item("LOG-1", on_hand=2)
    order_id = send(clarus_backoffice, clarus_tenant, "LOG-1")
    token_row = Exchange.objects.get(connection=clarus_connection, operation="oauth_token")
    assert clarus_tenant.client_secret not in token_row.request_summary
    assert '"access_token": "***"' in token_row.response_summary
    create = Exchange.objects.get(connection=clarus_connection, operation="create_goods_out")
    assert create.correlation_id == order_id and create.http_status == 201 and create.outcome == "ok"
    for personal in ("Jane Buyer", "1 High Street", "LS1 4AB", "0113 000000"):
        assert personal not in create.request_summary
    assert set(Exchange.objects.filter(connection=clarus_connection).values_list("operation", flat=True)) == {
        "oauth_token", "find_goods_out", "list_carrier_services", "find_products", "create_goods_out"}


def test_unreachable_clarus_is_transient_and_shows_on_the_connection(clarus_emulator, clarus_tenant):
    connection = clarus_connection_for(clarus_emulator, clarus_tenant, retries=1)
    connection.endpoint = "http://127.0.0.1:9"
    connection.save()
    with pytest.raises(ConnectorError) as caught:
        ClarusBackOffice(connection).list_items()
    assert not caught.value.permanent
    connection.refresh_from_db()
    assert connection.consecutive_failures == 2 and "oauth_token" in connection.last_error
    connection.endpoint = clarus_emulator.url
    connection.save()
    ClarusBackOffice(connection).list_items()
    connection.refresh_from_db()
    assert connection.consecutive_failures == 0 and connection.last_success_at


def test_clarus_validation_error_is_permanent_and_carries_its_text(clarus_backoffice, clarus_tenant):
    clarus_tenant.add_item("VALID-1", on_hand=2)
    order = sales_order(amazon_order_id(), clarus_tenant.ship_method, [("80000000000002", "VALID-1", 1)])
    order.address.country_code = "GBR"
    with pytest.raises(ConnectorError) as caught:
        clarus_backoffice.create_sales_order(order)
    assert caught.value.permanent and caught.value.status == 422
    assert "not an ISO 3166-1 alpha-2 code" in caught.value.message
    assert clarus_tenant.order_count(order.amazon_order_id) == 0


def test_unknown_ship_method_is_permanent_and_named(clarus_backoffice, clarus_tenant):
    clarus_tenant.add_item("SHIP-1", on_hand=2)
    with pytest.raises(ConnectorError) as caught:
        send(clarus_backoffice, clarus_tenant, "SHIP-1", ship_method="Pigeon Post")
    assert caught.value.permanent and "Pigeon Post" in caught.value.message


def test_dispatches_page_through_the_cursor_once_each_in_dispatch_order(clarus_emulator, clarus_tenant):
    backoffice = ClarusBackOffice(clarus_connection_for(clarus_emulator, clarus_tenant, page_size=2,
                                                        dispatch_page_limit=3))
    clarus_tenant.add_item("CURSOR-1", on_hand=20)
    order_ids = [send(backoffice, clarus_tenant, "CURSOR-1") for _ in range(5)]
    for order_id in reversed(order_ids):  # created in one order, dispatched in the other
        clarus_tenant.dispatch(order_id)
    first = backoffice.list_dispatches("")
    second = backoffice.list_dispatches(first.cursor)
    third = backoffice.list_dispatches(second.cursor)
    assert [len(first.dispatches), len(second.dispatches), len(third.dispatches)] == [3, 2, 0]
    assert third.cursor == second.cursor
    listed = [d.amazon_order_id for d in first.dispatches + second.dispatches]
    assert listed == list(reversed(order_ids))
    with pytest.raises(ConnectorError) as caught:
        backoffice.list_dispatches("yesterday")
    assert caught.value.permanent and "cursor" in caught.value.message


def test_first_poll_reads_only_recent_dispatches(clarus_backoffice, clarus_tenant):
    clarus_tenant.add_item("OLD-1", on_hand=5)
    old, recent = send(clarus_backoffice, clarus_tenant, "OLD-1"), send(clarus_backoffice, clarus_tenant, "OLD-1")
    clarus_tenant.dispatch(old)
    with clarus_tenant.emulator.lock:  # as if it had left the warehouse a month ago
        clarus_tenant.tenant.shipments[-1].dispatched_at -= dt.timedelta(days=30)
    clarus_tenant.dispatch(recent)
    assert [d.amazon_order_id for d in clarus_backoffice.list_dispatches("").dispatches] == [recent]


def test_tracking_can_be_read_from_the_shipment_instead_of_packages(clarus_emulator, clarus_tenant):
    backoffice = ClarusBackOffice(clarus_connection_for(clarus_emulator, clarus_tenant, tracking_on="shipment"))
    clarus_tenant.add_item("TRACK-1", on_hand=5)
    order_id = send(backoffice, clarus_tenant, "TRACK-1", quantity=2)
    clarus_tenant.dispatch(order_id, [{"tracking_number": "FIRST", "lines": {"80000000000001": 1}},
                                      {"tracking_number": "SECOND", "lines": {"80000000000001": 1}}])
    (dispatch,) = backoffice.list_dispatches("").dispatches
    assert [p.tracking_number for p in dispatch.packages] == ["FIRST", "FIRST"]


def test_held_stock_is_neither_available_nor_on_hand_and_new_orders_wait_for_allocation(clarus_backoffice,
                                                                                        clarus_tenant):
    clarus_tenant.add_item("HELD-1", on_hand=10)
    clarus_tenant.hold_stock("HELD-1", 2)
    send(clarus_backoffice, clarus_tenant, "HELD-1", quantity=3)
    (stock,) = clarus_backoffice.get_stock(["HELD-1"])
    assert (stock.on_hand, stock.allocated, stock.available) == (8, 0, 8)
    assert clarus_backoffice.get_stock([]) == []


def test_dispatched_order_cannot_be_cancelled(clarus_backoffice, clarus_tenant):
    clarus_tenant.add_item("GONE-1", on_hand=2)
    order_id = send(clarus_backoffice, clarus_tenant, "GONE-1")
    clarus_tenant.dispatch(order_id)
    with pytest.raises(ConnectorError) as caught:
        clarus_backoffice.cancel_sales_order(order_id)
    assert caught.value.permanent and "already dispatched" in caught.value.message
    status = clarus_backoffice.get_sales_order_status(order_id)
    assert status.dispatched and not status.cancelled and status.status == "COMPLETED"


def test_a_batch_of_creates_looks_for_existing_goods_outs_in_one_query(clarus_backoffice, clarus_connection,
                                                                      clarus_tenant, monkeypatch):
    """Found with bench_pipeline: every create first asked Clarus for its reference on its own (a create
    whose reply was lost, or a back office the hub was installed over, must not get a second goods-out),
    two calls per order. A worker's batch now asks once for all; what already exists is still never doubled."""
    from connectors.clarus import client as clarus_client

    clarus_tenant.add_item("BATCH-1")
    existing = send(clarus_backoffice, clarus_tenant, "BATCH-1")  # there before, as after a lost reply
    fresh = [amazon_order_id() for _ in range(2)]
    Exchange.objects.all().delete()
    clarus_backoffice.prepare_creates([existing, *fresh])
    references = [clarus_backoffice.create_sales_order(sales_order(order_id, clarus_tenant.ship_method,
                                                                   [("80000000000001", "BATCH-1", 1)]))
                  for order_id in (existing, *fresh)]
    calls = list(Exchange.objects.filter(connection=clarus_connection).values_list("operation", flat=True))
    assert sorted(calls) == ["create_goods_out", "create_goods_out", "find_goods_outs"]
    assert all(clarus_tenant.order_count(order_id) == 1 for order_id in (existing, *fresh))
    assert references == [str(clarus_tenant.goods_out(order_id)["id"]) for order_id in (existing, *fresh)]
    # An answer is used once, and only while fresh: after that each create looks for itself again.
    assert clarus_backoffice.create_sales_order(sales_order(fresh[0], clarus_tenant.ship_method,
                                                            [("80000000000001", "BATCH-1", 1)])) == references[1]
    monkeypatch.setattr(clarus_client, "LOOK_AHEAD_SECONDS", -1)
    late = amazon_order_id()
    clarus_backoffice.prepare_creates([late, existing])
    send_late = sales_order(late, clarus_tenant.ship_method, [("80000000000001", "BATCH-1", 1)])
    clarus_backoffice.create_sales_order(send_late)
    assert Exchange.objects.filter(connection=clarus_connection, operation="find_goods_out").count() == 2
    assert clarus_tenant.order_count(fresh[0]) == 1 and clarus_tenant.order_count(late) == 1
    # What a batch read ahead is dropped by the next batch's look, whatever it held (found in review: a stale
    # "none" kept for an order another worker has since created could have created it twice).
    monkeypatch.setattr(clarus_client, "LOOK_AHEAD_SECONDS", 30)
    again = amazon_order_id()
    clarus_backoffice.prepare_creates([again])
    clarus_backoffice.prepare_creates([amazon_order_id()])
    clarus_backoffice.create_sales_order(sales_order(again, clarus_tenant.ship_method,
                                                     [("80000000000001", "BATCH-1", 1)]))
    assert Exchange.objects.filter(connection=clarus_connection, operation="find_goods_out").count() == 3


def test_the_environments_proxy_settings_are_read_once_and_kept(clarus_connection, monkeypatch):
    from connectors.clarus.transport import ClarusTransport

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    clarus_connection.endpoint = "http://clarus.example"
    transport = ClarusTransport(clarus_connection)
    assert transport.session.proxies.get("http") == "http://proxy.example:3128"
    assert not transport.session.trust_env  # not read again on every call
    monkeypatch.setenv("NO_PROXY", "clarus.example")
    assert not ClarusTransport(clarus_connection).session.proxies.get("http")
