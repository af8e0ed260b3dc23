"""Sage 500 reads: stock rules, company scoping, dispatches and their cursor."""

import time

import pytest

from connectors.base import ConnectorError
from connectors.models import BackOfficeConnection
from connectors.registry import back_office_for
from connectors.sage500.emulator import Sage500Emulator
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_sage500 import SHIP_METHOD

pytestmark = pytest.mark.django_db


def test_stock_leaves_bins_flagged_excl_from_avail_out_of_available(sage500, sage500_backoffice):
    sage500.add_item("HELD-1", on_hand=10)
    sage500.add_item("HELD-1", on_hand=5, bin_id="QC")  # the QC bin is ExclFromAvail = 1
    order_id = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "HELD-1", 3)]))

    (stock,) = sage500_backoffice.get_stock(["HELD-1"])

    assert (stock.on_hand, stock.allocated, stock.available) == (15, 3, 7)
    assert stock.warehouse == "MAIN"


def test_orders_beyond_available_stock_make_availability_negative_not_hidden(sage500, sage500_backoffice):
    sage500.add_item("SHORT-1", on_hand=1)
    sage500_backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, [("1", "SHORT-1", 3)]))
    (stock,) = sage500_backoffice.get_stock(["SHORT-1"])
    assert (stock.on_hand, stock.allocated, stock.available) == (1, 3, -2)


def test_stock_of_all_items_and_of_none(sage500, sage500_backoffice):
    sage500.add_item("ALL-1", on_hand=1)
    sage500.add_item("ALL-2", on_hand=2)
    assert {s.item_code: s.on_hand for s in sage500_backoffice.get_stock()} == {"ALL-1": 1, "ALL-2": 2}
    assert sage500_backoffice.get_stock([]) == []
    assert sage500_backoffice.get_stock(["NOT-AN-ITEM"]) == []


def test_inactive_items_are_listed_as_inactive_and_cannot_be_ordered(sage500, sage500_backoffice):
    sage500.add_item("OLD-1", on_hand=4, status=3)  # discontinued
    assert {i.item_code: i.active for i in sage500_backoffice.list_items()} == {"OLD-1": False}
    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, [("1", "OLD-1", 1)]))
    assert caught.value.permanent and "OLD-1" in caught.value.message


def test_company_id_scopes_orders_stock_items_ship_methods_and_dispatches(sage500, sage500_backoffice,
                                                                         sage500_connection):
    other = Sage500Emulator(sage500.engine, company_id="SOB")
    other.setup_company(name="Other Ltd")
    other.add_ship_method("PF24", "Parcelforce express24")
    other.add_item("SHARED-1", on_hand=99)
    other.add_item("ONLY-B", on_hand=1)
    sage500.add_item("SHARED-1", on_hand=4)
    b_connection = BackOfficeConnection.objects.create(
        name="Sage B", kind=sage500_connection.kind, endpoint=sage500_connection.endpoint,
        username=sage500_connection.username, options=other.connection_options())
    company_b = back_office_for(b_connection)
    order_id = amazon_order_id()
    company_b.create_sales_order(sales_order(order_id, "PF24", [("1", "SHARED-1", 2)]))
    other.ship(order_id)

    assert sage500_backoffice.get_sales_order_status(order_id) is None
    assert [(s.item_code, s.on_hand, s.available) for s in sage500_backoffice.get_stock()] == [("SHARED-1", 4, 4)]
    assert "ONLY-B" not in {i.item_code for i in sage500_backoffice.list_items()}
    assert "PF24" not in {m.code for m in sage500_backoffice.list_ship_methods()}
    assert sage500_backoffice.list_dispatches("").dispatches == []
    assert [d.amazon_order_id for d in company_b.list_dispatches("").dispatches] == [order_id]


def test_dispatch_carries_sage_ship_method_id_as_listed_and_local_time(sage500, sage500_backoffice):
    sage500.add_item("SM-1", on_hand=3)
    order_id = amazon_order_id()
    ref = sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("31", "SM-1", 2)]))
    tran_id = sage500.ship(order_id, [{"tracking_number": "DPD123", "lines": {"31": 1}}], ship_method="DPDNEXT")

    (dispatch,) = sage500_backoffice.list_dispatches("").dispatches

    assert dispatch.ship_method == "DPDNEXT"
    assert dispatch.ship_method in {m.code for m in sage500_backoffice.list_ship_methods()}
    assert dispatch.carrier == "DPD Next Day"
    assert dispatch.dispatch_ref == f"{tran_id}/{ref}"
    assert dispatch.shipped_at.tzinfo is not None
    assert [(p.tracking_number, [(x.line_ref, x.item_code, x.quantity) for x in p.lines])
            for p in dispatch.packages] == [("DPD123", [("31", "SM-1", 1)])]
    status = sage500_backoffice.get_sales_order_status(order_id)
    assert not status.dispatched and status.status == "Open"  # one of two still to ship


def test_dispatch_pages_follow_the_ship_key_cursor(sage500, sage500_connection):
    sage500_connection.options = {**sage500_connection.options, "page_size": 2}
    backoffice = back_office_for(sage500_connection)
    sage500.add_item("PAGE-1", on_hand=10)
    order_ids = [amazon_order_id() for _ in range(3)]
    for order_id in order_ids:
        backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "PAGE-1", 1)]))
        sage500.ship(order_id)

    first = backoffice.list_dispatches("")
    second = backoffice.list_dispatches(first.cursor)
    third = backoffice.list_dispatches(second.cursor)

    assert [d.amazon_order_id for d in first.dispatches + second.dispatches] == order_ids
    assert (len(first.dispatches), len(second.dispatches), third.dispatches) == (2, 1, [])
    assert third.cursor == second.cursor


def test_a_shipment_whose_lower_key_commits_late_is_still_read(sage500, sage500_backoffice):
    sage500.add_item("LATE-1", on_hand=10)
    early, late = amazon_order_id(), amazon_order_id()
    for order_id in (early, late):
        sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "LATE-1", 1)]))
    reserved = sage500.reserve_key()  # a posting takes its key, then takes its time to commit
    sage500.ship(late)  # a later posting gets the next key and commits first
    first = sage500_backoffice.list_dispatches("")
    assert [d.amazon_order_id for d in first.dispatches] == [late]
    assert first.cursor.startswith(f"{reserved + 1};{reserved}@")
    sage500.ship(early, ship_key=reserved)
    second = sage500_backoffice.list_dispatches(first.cursor)
    assert [d.amazon_order_id for d in second.dispatches] == [early]
    assert second.cursor == str(reserved + 1)  # found: no longer looked for
    assert sage500_backoffice.list_dispatches(second.cursor).dispatches == []


def test_a_missing_key_is_looked_for_only_as_long_as_the_option_says(sage500, sage500_connection):
    sage500_connection.options = {**sage500_connection.options, "key_gap_seconds": 1}
    backoffice = back_office_for(sage500_connection)
    sage500.add_item("LATE-2", on_hand=10)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "LATE-2", 1)]))
    reserved = sage500.reserve_key()  # rolled back: the key never appears
    sage500.ship(order_id)
    first = backoffice.list_dispatches("")
    assert ";" in first.cursor
    time.sleep(1.1)
    assert backoffice.list_dispatches(first.cursor).cursor == str(reserved + 1)


def test_every_dispatch_of_one_order_is_read_fresh(sage500, sage500_backoffice):
    sage500.add_item("FRESH-1", on_hand=10)
    order_id = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "FRESH-1", 3)]))
    sage500.ship(order_id, packages=[{"tracking_number": "T-1", "lines": {"1": 1}}])
    sage500.ship(order_id, packages=[{"tracking_number": "T-2", "lines": {"1": 2}}])
    dispatches = sage500_backoffice.dispatches_for_order(order_id)
    assert [[p.tracking_number for p in d.packages] for d in dispatches] == [["T-1"], ["T-2"]]
    assert sage500_backoffice.dispatches_for_order(amazon_order_id()) == []


def test_a_cursor_that_is_not_a_ship_key_is_refused(sage500_backoffice):
    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.list_dispatches("yesterday")
    assert caught.value.permanent and "yesterday" in caught.value.message


def test_tracking_query_comes_from_the_options(sage500, sage500_connection):
    sage500_connection.options = {**sage500_connection.options, "tracking_query": (
        "SELECT sl.ShipLineKey AS ship_line_key, 'SITE-' || sh.TranID AS tracking_number, NULL AS quantity "
        "FROM tsoShipLine sl JOIN tsoShipment sh ON sh.ShipKey = sl.ShipKey "
        "WHERE sl.ShipKey = :ship_key AND sh.CompanyID = :company_id")}
    backoffice = back_office_for(sage500_connection)
    sage500.add_item("TQ-1", on_hand=5)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "TQ-1", 2)]))
    tran_id = sage500.ship(order_id)

    (dispatch,) = backoffice.list_dispatches("").dispatches

    assert [(p.tracking_number, p.lines[0].quantity) for p in dispatch.packages] == [(f"SITE-{tran_id}", 2)]

