"""Sage 500 sales orders: the session-and-procedure protocol, its error log, the Amazon id's home."""

import pytest

from connectors.base import ConnectorError
from connectors.choices import System
from connectors.sage500.amazon_ids import from_user_field
from integration_hub.exchanges.choices import Outcome
from integration_hub.exchanges.models import Exchange
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_sage500 import SHIP_METHOD

pytestmark = pytest.mark.django_db


def procedure_calls(procedure="spSOapiSalesOrdIns"):
    return Exchange.objects.filter(system=System.SAGE500, operation=procedure)


def test_import_calls_the_procedure_while_it_asks_to_continue(sage500, sage500_backoffice):
    sage500.add_item("BATCH-1", on_hand=50)
    sage500.set_batch_size(2)
    orders = [sales_order(amazon_order_id(), SHIP_METHOD, [(f"7000000000000{n}", "BATCH-1", 1)]) for n in range(5)]

    created = sage500_backoffice._import_orders(orders)

    assert procedure_calls().count() == 3  # 2 + 2 + 1 staged headers
    assert [call.request_summary for call in procedure_calls().order_by("pk")][-1].count('"call": 3') == 1
    assert len({order.tran_no for order in created.values()}) == 5
    assert all(sage500.order_count(order.amazon_order_id) == 1 for order in orders)


def test_rejected_order_carries_the_migration_log_text_and_writes_nothing(sage500, sage500_backoffice,
                                                                         sage500_connection):
    sage500.add_item("GOOD-1", on_hand=5)
    order_id = amazon_order_id()
    order = sales_order(order_id, "NO-SUCH-METHOD", [("81111111111111", "GOOD-1", 1), ("81111111111112", "GONE-2", 1)])

    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.create_sales_order(order)

    message = caught.value.message
    assert caught.value.permanent
    assert "Invalid DfltShipMethID 'NO-SUCH-METHOD'" in message
    assert "Line 2: invalid ItemID 'GONE-2'" in message
    assert sage500.order_count(order_id) == 0
    outcome_row = Exchange.objects.get(operation="spSOapiSalesOrdIns outcome", correlation_id=order_id)
    assert outcome_row.outcome == Outcome.PERMANENT and "GONE-2" in outcome_row.error
    sage500_connection.refresh_from_db()
    assert sage500_connection.consecutive_failures == 0  # Sage answered: the connection is healthy
    stock = sage500_backoffice.get_stock(["GOOD-1"])[0]
    assert stock.available == 5 and stock.allocated == 0


def test_parameter_error_from_the_procedure_is_permanent_and_quoted(sage500, sage500_connection):
    from connectors.registry import back_office_for

    sage500_connection.options = {**sage500_connection.options, "company_id": "ZZZ"}
    backoffice = back_office_for(sage500_connection)

    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, [("1", "ANY", 1)]))

    assert caught.value.permanent
    assert "refused its parameters" in caught.value.message
    assert "Company ZZZ does not exist" in caught.value.message
    assert procedure_calls().count() == 1


def test_amazon_order_id_lives_in_the_user_field_and_xref_not_in_cust_po(sage500, sage500_backoffice):
    sage500.add_item("XREF-1", on_hand=3)
    order_id = amazon_order_id()
    assert len(order_id) == 19

    ref = sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("91111111111111", "XREF-1", 1)]))

    (row,) = sage500.orders(order_id)
    assert ref == row["tranno"] and len(ref) == 10 and ref.isdigit()  # the TranNo the hub keeps
    assert row["custpono"] == ""
    assert len(row["userfld1"]) <= 15 and from_user_field(row["userfld1"]) == order_id
    assert order_id in row["trancmnt"]
    assert sage500_backoffice.get_sales_order_status(order_id).back_office_ref == ref


def test_creating_an_order_allocates_stock_and_cancelling_releases_it(sage500, sage500_backoffice):
    sage500.add_item("ALLOC-1", on_hand=10)
    order_id = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "ALLOC-1", 4)]))
    held = sage500_backoffice.get_stock(["ALLOC-1"])[0]
    assert (held.on_hand, held.allocated, held.available) == (10, 4, 6)

    sage500_backoffice.cancel_sales_order(order_id)
    sage500_backoffice.cancel_sales_order(order_id)  # again: nothing more happens

    released = sage500_backoffice.get_stock(["ALLOC-1"])[0]
    assert (released.on_hand, released.allocated, released.available) == (10, 0, 10)
    assert sage500_backoffice.get_sales_order_status(order_id).status == "Canceled"
    assert procedure_calls().count() == 2  # one create, one cancellation


def test_cancelling_a_shipped_order_is_refused_with_sages_reason(sage500, sage500_backoffice):
    sage500.add_item("SHIPPED-1", on_hand=10)
    order_id = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "SHIPPED-1", 2)]))
    sage500.ship(order_id, [{"tracking_number": "T1", "lines": {"1": 1}}])

    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.cancel_sales_order(order_id)

    assert caught.value.permanent and "has shipments and cannot be canceled" in caught.value.message
    assert not sage500_backoffice.get_sales_order_status(order_id).cancelled


def test_cancel_mode_refuse_leaves_the_order_to_the_user(sage500, sage500_connection):
    from connectors.registry import back_office_for

    sage500.add_item("REFUSE-1", on_hand=1)
    sage500_connection.options = {**sage500_connection.options, "cancel_mode": "refuse"}
    backoffice = back_office_for(sage500_connection)
    order_id = amazon_order_id()
    ref = backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "REFUSE-1", 1)]))

    with pytest.raises(ConnectorError) as caught:
        backoffice.cancel_sales_order(order_id)

    assert caught.value.permanent and ref in caught.value.message and "by hand" in caught.value.message
    assert backoffice.get_sales_order_status(order_id).status == "Open"


def test_cancelling_an_unknown_order_is_a_permanent_error(sage500_backoffice):
    order_id = amazon_order_id()
    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.cancel_sales_order(order_id)
    assert caught.value.permanent and order_id in caught.value.message


def test_procedure_names_come_from_the_options(sage500, sage500_connection):
    from connectors.registry import back_office_for

    sage500.add_item("CLONE-1", on_hand=2)
    sage500.clone_api_procedure("spSOapiSalesOrdIns", "spSOapiSalesOrdIns_TAC")
    sage500_connection.options = {**sage500_connection.options, "order_procedure": "spSOapiSalesOrdIns_TAC"}
    backoffice = back_office_for(sage500_connection)
    order_id = amazon_order_id()

    backoffice.create_sales_order(sales_order(order_id, SHIP_METHOD, [("1", "CLONE-1", 1)]))

    assert procedure_calls("spSOapiSalesOrdIns_TAC").count() == 1
    assert not procedure_calls().exists()
    assert sage500.order_count(order_id) == 1


def test_a_missing_procedure_or_staging_table_is_a_permanent_error_naming_it(sage500_connection):
    from connectors.registry import back_office_for

    sage500_connection.options = {**sage500_connection.options, "gl_procedure": "spglapiNotInstalled",
                                  "order_staging_table": "StgSalesOrder_RKL"}
    backoffice = back_office_for(sage500_connection)

    with pytest.raises(ConnectorError) as probe:
        backoffice.test_connection()
    with pytest.raises(ConnectorError) as create:
        backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, [("1", "ANY", 1)]))

    assert probe.value.permanent and "spglapiNotInstalled" in probe.value.message
    assert create.value.permanent and "stgsalesorder_rkl" in create.value.message.lower()


def test_order_without_lines_is_refused_before_staging(sage500_backoffice):
    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, []))
    assert caught.value.permanent and "no lines" in caught.value.message
    assert not Exchange.objects.filter(operation="stage").exists()
