"""The contract every back-office connector meets, run against its emulator.

Each system subclasses `BackOfficeContract` in tests/connectors/<system>/test_contract.py and
provides two fixtures:

- `backoffice`: the connector (a `connectors.base.BackOffice`) bound to a saved
  BackOfficeConnection that points at a running emulator;
- `warehouse`: a handle on that emulator with
    ship_method                      a ship method code the emulator knows
    add_item(item_code, on_hand)     create an item with stock on hand
    dispatch(amazon_order_id, packages, ship_method)
                                     ship an order as the warehouse does; packages is a list of
                                     {"tracking_number": str, "lines": {line_ref: quantity}}
    drop_next_create_response()      the next create is applied by the back office, but the
                                     connector's call times out / loses the reply
    order_count(amazon_order_id)     how many sales orders the back office holds for an Amazon order
    gl_batches(reference)            the GL batches the back office holds for a reference
"""

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest

from connectors.base import (
    Address,
    ConnectorError,
    JournalPost,
    JournalPostLine,
    NotInBackOffice,
    SalesOrder,
    SalesOrderLine,
)


def amazon_order_id():
    digits = uuid.uuid4().int
    return f"202-{digits % 10**7:07d}-{digits // 10**7 % 10**7:07d}"


def sales_order(order_id, ship_method, lines):
    return SalesOrder(
        amazon_order_id=order_id,
        order_date=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc),
        ship_by=dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.timezone.utc),
        ship_method=ship_method,
        currency="GBP",
        address=Address(name="Jane Buyer", line1="1 High Street", line2="Flat 2", city="Leeds",
                        county="West Yorkshire", postcode="LS1 4AB", country_code="GB", phone="0113 000000"),
        lines=[SalesOrderLine(line_ref=ref, item_code=code, quantity=qty, unit_price=Decimal("9.99"))
               for ref, code, qty in lines],
    )


@pytest.mark.django_db(transaction=True)
class BackOfficeContract:
    def test_connection_test_reaches_the_system(self, backoffice):
        assert backoffice.test_connection()

    def test_create_order_twice_makes_one_order(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-1", on_hand=10)
        order_id = amazon_order_id()
        order = sales_order(order_id, warehouse.ship_method, [("11111111111111", "WIDGET-1", 2)])
        first = backoffice.create_sales_order(order)
        second = backoffice.create_sales_order(order)
        assert first and first == second
        status = backoffice.get_sales_order_status(order_id)
        assert status.back_office_ref == first
        assert not status.cancelled and not status.dispatched

    def test_unknown_order_has_no_status(self, backoffice):
        assert backoffice.get_sales_order_status(amazon_order_id()) is None

    def test_cancel_order(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-2", on_hand=5)
        order_id = amazon_order_id()
        backoffice.create_sales_order(sales_order(order_id, warehouse.ship_method, [("22222222222222", "WIDGET-2", 1)]))
        backoffice.cancel_sales_order(order_id)
        assert backoffice.get_sales_order_status(order_id).cancelled

    def test_cancel_of_an_order_it_never_had_says_so(self, backoffice):
        with pytest.raises(NotInBackOffice) as caught:
            backoffice.cancel_sales_order(amazon_order_id())
        assert caught.value.permanent

    def test_cancel_after_a_create_whose_reply_was_lost_reaches_the_order(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-7", on_hand=5)
        order_id = amazon_order_id()
        warehouse.drop_next_create_response()
        order = sales_order(order_id, warehouse.ship_method, [("77777777777777", "WIDGET-7", 1)])
        with pytest.raises(ConnectorError):
            backoffice.create_sales_order(order)
        for _ in range(50):  # a back office that imports in the background may take a moment
            try:
                backoffice.cancel_sales_order(order_id)
                break
            except ConnectorError as exc:
                assert not exc.permanent, exc.message  # "still on its way" must never read as "not there"
                time.sleep(0.1)
        assert backoffice.get_sales_order_status(order_id).cancelled

    def test_dispatch_in_two_packages_is_listed_with_tracking_and_quantities(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-3", on_hand=10)
        warehouse.add_item("GADGET-3", on_hand=10)
        order_id = amazon_order_id()
        ref = backoffice.create_sales_order(sales_order(order_id, warehouse.ship_method, [
            ("33333333333331", "WIDGET-3", 2), ("33333333333332", "GADGET-3", 1)]))
        start = backoffice.list_dispatches("")
        warehouse.dispatch(order_id, [
            {"tracking_number": "TRACK-A-1", "lines": {"33333333333331": 2}},
            {"tracking_number": "TRACK-A-2", "lines": {"33333333333332": 1}},
        ], ship_method=warehouse.ship_method)
        page = backoffice.list_dispatches(start.cursor)
        mine = [d for d in page.dispatches if d.amazon_order_id == order_id]
        assert len(mine) == 1
        dispatch = mine[0]
        assert dispatch.back_office_ref == ref
        assert dispatch.ship_method
        tracked = {p.tracking_number: {line.line_ref: line.quantity for line in p.lines} for p in dispatch.packages}
        assert tracked == {"TRACK-A-1": {"33333333333331": 2}, "TRACK-A-2": {"33333333333332": 1}}
        assert backoffice.get_sales_order_status(order_id).dispatched
        # The cursor moves on: the same dispatch is not listed again.
        again = backoffice.list_dispatches(page.cursor)
        assert order_id not in [d.amazon_order_id for d in again.dispatches]

    def test_the_dispatches_of_one_order_are_read_again_after_the_cursor_moved_on(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-4", on_hand=10)
        order_id, other = amazon_order_id(), amazon_order_id()
        for each in (order_id, other):
            backoffice.create_sales_order(sales_order(each, warehouse.ship_method, [("44444444444441", "WIDGET-4", 1)]))
        assert backoffice.dispatches_for_order(order_id) == []
        warehouse.dispatch(order_id, [{"tracking_number": "TRACK-B-1", "lines": {"44444444444441": 1}}],
                           ship_method=warehouse.ship_method)
        warehouse.dispatch(other, [{"tracking_number": "TRACK-C-1", "lines": {"44444444444441": 1}}],
                           ship_method=warehouse.ship_method)
        backoffice.list_dispatches("")
        found = backoffice.dispatches_for_order(order_id)
        assert [d.amazon_order_id for d in found] == [order_id]
        assert [p.tracking_number for p in found[0].packages] == ["TRACK-B-1"]
        assert {line.line_ref: line.quantity for line in found[0].packages[0].lines} == {"44444444444441": 1}

    def test_read_stock_reflects_orders_and_dispatches(self, backoffice, warehouse):
        warehouse.add_item("STOCK-4", on_hand=12)
        before = {s.item_code: s for s in backoffice.get_stock(["STOCK-4"])}
        assert before["STOCK-4"].on_hand == 12
        assert before["STOCK-4"].available == 12
        order_id = amazon_order_id()
        backoffice.create_sales_order(sales_order(order_id, warehouse.ship_method, [("44444444444444", "STOCK-4", 3)]))
        warehouse.dispatch(order_id, [{"tracking_number": "TRACK-4", "lines": {"44444444444444": 3}}],
                           ship_method=warehouse.ship_method)
        after = {s.item_code: s for s in backoffice.get_stock(["STOCK-4"])}
        assert after["STOCK-4"].on_hand == 9
        assert after["STOCK-4"].available == 9

    def test_item_master_and_ship_methods_are_listed(self, backoffice, warehouse):
        warehouse.add_item("LISTED-5", on_hand=1)
        assert "LISTED-5" in {item.item_code for item in backoffice.list_items()}
        assert warehouse.ship_method in {method.code for method in backoffice.list_ship_methods()}

    def test_unknown_item_is_a_permanent_error_naming_it(self, backoffice, warehouse):
        order_id = amazon_order_id()
        with pytest.raises(ConnectorError) as caught:
            backoffice.create_sales_order(sales_order(order_id, warehouse.ship_method,
                                                      [("55555555555555", "NO-SUCH-ITEM", 1)]))
        assert caught.value.permanent
        assert "NO-SUCH-ITEM" in caught.value.message
        assert backoffice.get_sales_order_status(order_id) is None

    def test_timeout_mid_create_leaves_no_duplicate_after_retry(self, backoffice, warehouse):
        warehouse.add_item("WIDGET-6", on_hand=10)
        order_id = amazon_order_id()
        order = sales_order(order_id, warehouse.ship_method, [("66666666666666", "WIDGET-6", 1)])
        warehouse.drop_next_create_response()
        with pytest.raises(ConnectorError) as caught:
            backoffice.create_sales_order(order)
        assert not caught.value.permanent
        ref = backoffice.create_sales_order(order)
        assert backoffice.get_sales_order_status(order_id).back_office_ref == ref
        assert warehouse.order_count(order_id) == 1

    def test_gl_journal_is_posted_once(self, backoffice, warehouse):
        reference = f"STL{uuid.uuid4().int % 10**10}"
        journal = JournalPost(reference=reference, date=dt.date(2026, 11, 20), description="Amazon settlement",
                              currency="GBP", lines=[
                                  JournalPostLine("4000", "Amazon sales", Decimal("0"), Decimal("120.00")),
                                  JournalPostLine("6100", "Amazon fees", Decimal("18.00"), Decimal("0")),
                                  JournalPostLine("1200", "Amazon deposit", Decimal("102.00"), Decimal("0")),
                              ])
        first = backoffice.post_journal(journal)
        second = backoffice.post_journal(journal)
        assert first and first == second
        assert len(warehouse.gl_batches(reference)) == 1
