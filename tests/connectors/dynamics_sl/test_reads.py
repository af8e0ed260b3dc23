"""Dynamics SL reads: SL's storage conventions become clean canonical values, scoped to one company."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from connectors.base import JournalPost, JournalPostLine
from connectors.dynamics_sl.emulator import SLEmulator
from connectors.dynamics_sl.tables import ItemSite, SOHeader, SOShipHeader
from connectors.models import BackOfficeConnection
from connectors.registry import back_office_for
from connectors.sql import NULL_DATE, money, sql_date, trim
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_dynamics_sl import OTHER_COMPANY, SL_COMPANY

pytestmark = pytest.mark.django_db


def test_helpers_trim_padding_round_float_money_and_drop_the_1900_date():
    assert trim("RM24           ") == "RM24"
    assert trim(None) is None
    assert money(0.1 + 0.2) == Decimal("0.30")
    assert money(29.970000000000002) == Decimal("29.97")
    assert money(2.675) == Decimal("2.68")  # rounded as written, not as the binary float is
    assert sql_date(NULL_DATE) is None
    assert sql_date(dt.date(1900, 1, 1)) is None
    assert sql_date(dt.datetime(2026, 11, 20, 9, 0)) == dt.datetime(2026, 11, 20, 9, 0)


def test_char_padding_is_real_in_the_emulator_and_trimmed_in_every_read(backoffice, warehouse, sl_emulator):
    warehouse.add_item("PAD-1", on_hand=4)
    with sl_emulator.engine.connect() as conn:
        raw = conn.execute(select(ItemSite.c.InvtID, ItemSite.c.SiteID)).one()
    assert raw.InvtID == "PAD-1".ljust(30) and raw.SiteID == "MAIN".ljust(10)

    [stock] = backoffice.get_stock(["PAD-1"])
    assert (stock.item_code, stock.warehouse, stock.on_hand, stock.available) == ("PAD-1", "MAIN", 4, 4)
    assert "PAD-1" in [item.item_code for item in backoffice.list_items()]
    assert [(m.code, m.description) for m in backoffice.list_ship_methods()] == [("RM24", "Royal Mail Tracked 24")]
    order_id = amazon_order_id()
    ref = backoffice.create_sales_order(sales_order(order_id, "RM24", [("70000000000001", "PAD-1", 1)]))
    assert ref == "000001"
    status = backoffice.get_sales_order_status(order_id)
    assert (status.back_office_ref, status.status) == ("000001", "O")


def test_a_shipper_with_the_1900_ship_date_is_not_a_dispatch_yet(backoffice, warehouse, sl_emulator):
    warehouse.add_item("PLAN-1", on_hand=5)
    order_id = amazon_order_id()
    ref = backoffice.create_sales_order(sales_order(order_id, "RM24", [("71000000000001", "PLAN-1", 1)]))
    with sl_emulator.engine.begin() as conn:  # a shipper planned in SL but not shipped: SL's "no date"
        conn.execute(insert(SOShipHeader).values(CpnyID=SL_COMPANY, ShipperID="000900", OrdNbr=ref,
                                                 ShipViaID="RM24", TrackingNbr="PLANNED", ShippingConfirmed=1,
                                                 LUpd_DateTime=dt.datetime.now() - dt.timedelta(minutes=5)))
    assert backoffice.list_dispatches("").dispatches == []
    assert not backoffice.get_sales_order_status(order_id).dispatched


def test_dispatch_carries_ship_via_id_as_ship_method_and_a_same_day_confirmation_time(backoffice, warehouse):
    warehouse.add_item("TIME-1", on_hand=5)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, "RM24", [("72000000000001", "TIME-1", 2)]))
    warehouse.dispatch(order_id, [{"tracking_number": "RM123456789GB", "lines": {"72000000000001": 2}}], "RM24")
    [dispatch] = backoffice.list_dispatches("").dispatches
    assert (dispatch.ship_method, dispatch.carrier) == ("RM24", "Royal Mail Tracked 24")
    assert dispatch.ship_method in {method.code for method in backoffice.list_ship_methods()}
    assert dispatch.shipped_at.tzinfo is not None
    assert dispatch.shipped_at.date() == dt.date.today() and dispatch.shipped_at.time() != dt.time(0)


def test_shippers_of_other_customers_are_not_dispatches(backoffice, warehouse, sl_emulator):
    """Web-shop and B2B orders share the company with Amazon's; only the Amazon customer's are the hub's."""
    warehouse.add_item("CUST-1", on_hand=5)
    webshop_id, amazon_id = amazon_order_id(), amazon_order_id()
    backoffice.create_sales_order(sales_order(webshop_id, "RM24", [("75000000000001", "CUST-1", 1)]))
    backoffice.create_sales_order(sales_order(amazon_id, "RM24", [("75000000000002", "CUST-1", 1)]))
    sl_emulator.add_customer("WEBSHOP", "Web shop buyers")
    with sl_emulator.engine.begin() as conn:  # booked to another customer, as SL's own order entry would
        conn.execute(update(SOHeader).where(SOHeader.c.CustOrdNbr == webshop_id).values(CustID="WEBSHOP"))
    warehouse.dispatch(webshop_id, [{"tracking_number": "WEB-1", "lines": None}], "RM24")
    warehouse.dispatch(amazon_id, [{"tracking_number": "AMZ-1", "lines": None}], "RM24")

    assert [d.amazon_order_id for d in backoffice.list_dispatches("").dispatches] == [amazon_id]


def test_recent_shippers_wait_for_the_settle_window(backoffice, warehouse, sl_connection):
    warehouse.add_item("SETTLE-1", on_hand=5)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, "RM24", [("73000000000001", "SETTLE-1", 1)]))
    warehouse.dispatch(order_id, [{"tracking_number": "T-SETTLE", "lines": {"73000000000001": 1}}], "RM24")
    sl_connection.options["dispatch_settle_seconds"] = 600
    page = backoffice.list_dispatches("")
    assert (page.dispatches, page.cursor) == ([], "")
    sl_connection.options["dispatch_settle_seconds"] = 0
    assert [d.amazon_order_id for d in backoffice.list_dispatches(page.cursor).dispatches] == [order_id]


def test_a_malformed_cursor_is_a_permanent_error(backoffice):
    from connectors.base import ConnectorError

    with pytest.raises(ConnectorError) as caught:
        backoffice.list_dispatches("yesterday")
    assert caught.value.permanent and "yesterday" in caught.value.message


def test_float_money_in_sl_matches_the_journal_to_the_penny(backoffice, warehouse, sl_emulator):
    journal = JournalPost(reference="STL-FLOAT-1", date=dt.date(2026, 11, 20), description="float pennies",
                          currency="GBP", lines=[
                              JournalPostLine("6100", "fee a", Decimal("0.10"), Decimal("0")),
                              JournalPostLine("6100", "fee b", Decimal("0.20"), Decimal("0")),
                              JournalPostLine("1200", "deposit", Decimal("0"), Decimal("0.30")),
                          ])
    batch = backoffice.post_journal(journal)
    with sl_emulator.engine.connect() as conn:
        from connectors.dynamics_sl.tables import Batch

        stored = conn.scalar(select(Batch.c.DrTot))
    assert stored != 0.3  # SL's FLOAT sum is 0.30000000000000004 ...
    assert backoffice.post_journal(journal) == batch  # ... and still reads as the same 0.30 journal
    assert warehouse.gl_batches("STL-FLOAT-1") == [batch]


@pytest.fixture
def other_company(sl_engine, sl_connection, sl_runner):
    """A second SL company in the same database, with its own connection, ship method and site."""
    other = SLEmulator(sl_engine, company_id=OTHER_COMPANY, site_id="NORTH")
    other.add_ship_via("OTHER1", "Other company's van")
    other.add_item("SHARED-1", on_hand=50)
    connection = BackOfficeConnection.objects.create(
        name="SL other company", kind="dynamics_sl", endpoint=sl_connection.endpoint,
        username=sl_connection.username, options={**sl_connection.options, "company_id": OTHER_COMPANY,
                                                  "site_id": "NORTH"})
    return other, back_office_for(connection)


def test_another_companys_rows_are_never_read(backoffice, warehouse, other_company):
    other, other_backoffice = other_company
    warehouse.add_item("SHARED-1", on_hand=5)  # the item master is shared; the stock is per company site
    order_id = amazon_order_id()
    other_backoffice.create_sales_order(sales_order(order_id, "OTHER1", [("74000000000001", "SHARED-1", 2)]))
    other.ship(order_id, [{"tracking_number": "OTHER-TRACK", "lines": None}], ship_via="OTHER1")
    other_backoffice.post_journal(JournalPost(reference="STL-OTHER", date=dt.date(2026, 11, 20), description="x",
                                              currency="GBP", lines=[
                                                  JournalPostLine("1200", "a", Decimal("5.00"), Decimal("0")),
                                                  JournalPostLine("4000", "b", Decimal("0"), Decimal("5.00"))]))

    assert backoffice.get_sales_order_status(order_id) is None
    assert backoffice.list_dispatches("").dispatches == []
    assert [(s.warehouse, s.on_hand) for s in backoffice.get_stock(["SHARED-1"])] == [("MAIN", 5)]
    assert [s.warehouse for s in backoffice.get_stock()] == ["MAIN"]
    assert "OTHER1" not in {method.code for method in backoffice.list_ship_methods()}
    assert warehouse.gl_batches("STL-OTHER") == []
    # and the other company sees its own
    assert other_backoffice.get_sales_order_status(order_id).dispatched
    assert [s.warehouse for s in other_backoffice.get_stock(["SHARED-1"])] == ["NORTH"]
