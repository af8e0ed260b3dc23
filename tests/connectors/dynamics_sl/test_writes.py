"""Dynamics SL writes: Transaction Import files, the TI log, waiting, cancelling, errors and health."""

import datetime as dt
import time
from decimal import Decimal

import pytest

from connectors.base import ConnectorError, JournalPost, JournalPostLine
from connectors.dynamics_sl import ti
from connectors.models import BackOfficeConnection
from integration_hub.exchanges.models import Exchange
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_dynamics_sl import SL_SECRET

pytestmark = pytest.mark.django_db


def files(folder):
    return sorted(path.name for path in folder.iterdir())


def test_ti_error_log_is_surfaced_with_the_line_and_reason(backoffice, warehouse, sl_connection, sl_folders):
    warehouse.add_item("GOOD-1", on_hand=5)
    order_id = amazon_order_id()
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(sales_order(order_id, "RM24", [
            ("80000000000001", "GOOD-1", 1), ("80000000000002", "NOPE-9", 1)]))
    error = caught.value
    assert error.permanent
    assert "Line 3: Error: Inventory ID 'NOPE-9' is not valid (InvtID)" in error.message
    assert backoffice.get_sales_order_status(order_id) is None
    assert backoffice.get_stock(["GOOD-1"])[0].allocated == 0  # the good line was not half-written
    [log] = files(sl_folders["log"])
    assert log.startswith(f"SO_{order_id}_") and files(sl_folders["drop"]) == []
    sl_connection.refresh_from_db()
    assert sl_connection.consecutive_failures == 0  # SL answered; the order was at fault


def test_unknown_ship_method_is_rejected_by_ti(backoffice, warehouse):
    warehouse.add_item("GOOD-2", on_hand=5)
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(sales_order(amazon_order_id(), "NOVAN", [("81000000000001", "GOOD-2", 1)]))
    assert caught.value.permanent and "ShipViaID 'NOVAN' is not valid" in caught.value.message


def test_an_order_that_cannot_fit_sl_is_refused_before_any_file(backoffice, warehouse, sl_folders):
    order = sales_order(amazon_order_id(), "RM24", [("82000000000001", "X" * 31, 1)])
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(order)
    assert caught.value.permanent
    assert "line 1: InvtID" in caught.value.message and "30 characters" in caught.value.message
    order = sales_order(amazon_order_id(), "RM24", [("82000000000001", "GOOD-3", 0)])
    with pytest.raises(ConnectorError, match="quantity 0 is not a positive whole number"):
        backoffice.create_sales_order(order)
    assert files(sl_folders["drop"]) == [] and files(sl_folders["done"]) == []


def test_ti_files_are_complete_when_they_appear_and_named_for_the_order(backoffice, warehouse, sl_runner,
                                                                        sl_connection, sl_folders):
    warehouse.add_item("FILE-1", on_hand=5)
    sl_runner.pause()
    sl_connection.options["ti_wait_seconds"] = 0.1
    order_id = amazon_order_id()
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(sales_order(order_id, "RM24", [("83000000000001", "FILE-1", 2)]))
    assert not caught.value.permanent and "has not imported" in caught.value.message
    [data, job] = files(sl_folders["drop"])  # no temporary names left behind
    assert data.startswith(f"SO_{order_id}_") and data.endswith(".csv") and job == data[:-4] + ".job"
    assert (sl_folders["drop"] / job).read_bytes().decode() == f"control=SO40100.ctl\r\ndata={data}\r\n"
    lines = (sl_folders["drop"] / data).read_text().splitlines()
    assert lines[0].startswith('"Order","0060","AMAZON","' + order_id + '","11/20/2026"')
    assert lines[1] == '"Line","FILE-1","MAIN",2,9.99,"11/21/2026","","83000000000001"'


def test_a_failed_write_leaves_no_file_in_the_drop_folder(backoffice, warehouse, sl_folders, monkeypatch):
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the data file is written, the trigger file fails
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(ti.os, "fsync", failing_fsync)
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(sales_order(amazon_order_id(), "RM24", [("84000000000001", "ANY-1", 1)]))
    assert not caught.value.permanent and "No space left" in caught.value.message
    assert files(sl_folders["drop"]) == []


def test_a_retry_while_the_first_file_waits_drops_no_second_file(backoffice, warehouse, sl_runner,
                                                                 sl_connection, sl_folders):
    warehouse.add_item("WAIT-1", on_hand=5)
    sl_runner.pause()
    sl_connection.options["ti_wait_seconds"] = 0.1
    order = sales_order(amazon_order_id(), "RM24", [("85000000000001", "WAIT-1", 1)])
    for _ in range(2):
        with pytest.raises(ConnectorError):
            backoffice.create_sales_order(order)
    assert len(files(sl_folders["drop"])) == 2  # one data file and its job file
    sl_runner.resume()
    sl_connection.options["ti_wait_seconds"] = 10
    ref = backoffice.create_sales_order(order)
    assert warehouse.order_count(order.amazon_order_id) == 1 and ref == "000001"


def test_cancel_frees_the_allocation_and_is_idempotent(backoffice, warehouse):
    warehouse.add_item("ALLOC-1", on_hand=10)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, "RM24", [("86000000000001", "ALLOC-1", 3)]))
    [held] = backoffice.get_stock(["ALLOC-1"])
    assert (held.on_hand, held.allocated, held.available) == (10, 3, 7)
    backoffice.cancel_sales_order(order_id)
    backoffice.cancel_sales_order(order_id)
    [freed] = backoffice.get_stock(["ALLOC-1"])
    assert (freed.on_hand, freed.allocated, freed.available) == (10, 0, 10)
    status = backoffice.get_sales_order_status(order_id)
    assert status.cancelled and status.status == "C"


def test_a_shipped_order_cannot_be_cancelled(backoffice, warehouse):
    warehouse.add_item("SHIP-1", on_hand=10)
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, "RM24", [("87000000000001", "SHIP-1", 1)]))
    warehouse.dispatch(order_id, [{"tracking_number": "T-1", "lines": {"87000000000001": 1}}], "RM24")
    with pytest.raises(ConnectorError) as caught:
        backoffice.cancel_sales_order(order_id)
    assert caught.value.permanent and "has shipped" in caught.value.message


def test_an_unbalanced_journal_is_refused_and_an_unknown_account_is_rejected_by_ti(backoffice, warehouse):
    lines = [JournalPostLine("4000", "sales", Decimal("0"), Decimal("10.00")),
             JournalPostLine("9999", "nowhere", Decimal("10.00"), Decimal("0"))]
    journal = JournalPost(reference="STL-ACCT", date=dt.date(2026, 11, 20), description="d", currency="GBP",
                          lines=lines[:1])
    with pytest.raises(ConnectorError, match="does not balance"):
        backoffice.post_journal(journal)
    journal.lines = lines
    with pytest.raises(ConnectorError) as caught:
        backoffice.post_journal(journal)
    assert caught.value.permanent and "Account '9999' is not valid" in caught.value.message
    assert warehouse.gl_batches("STL-ACCT") == []


def test_secret_and_buyer_data_never_reach_the_exchange_log(backoffice, warehouse):
    warehouse.add_item("LOG-1", on_hand=5)
    backoffice.create_sales_order(sales_order(amazon_order_id(), "RM24", [("88000000000001", "LOG-1", 1)]))
    rows = Exchange.objects.filter(system="dynamics_sl")
    assert {row.operation for row in rows} >= {"find_order", "create_sales_order.ti_drop",
                                               "create_sales_order.ti_wait"}
    text = " ".join(f"{r.request_summary} {r.response_summary} {r.error}" for r in rows)
    for private in (SL_SECRET, "Jane Buyer", "1 High Street", "LS1 4AB", "0113 000000"):
        assert private not in text
    assert "LOG-1" in text


def test_an_unreachable_database_is_transient_tried_three_times_and_marks_the_connection(sl_connection):
    from connectors.registry import back_office_for

    sl_connection.endpoint = "postgresql+psycopg://127.0.0.1:1/nowhere"
    sl_connection.save()
    with pytest.raises(ConnectorError) as caught:
        back_office_for(sl_connection).list_ship_methods()
    assert not caught.value.permanent and SL_SECRET not in caught.value.message
    assert Exchange.objects.filter(operation="list_ship_methods").count() == 3
    sl_connection.refresh_from_db()
    assert sl_connection.consecutive_failures == 1 and sl_connection.last_error


def test_bad_options_are_a_permanent_error_naming_the_option(sl_connection):
    from connectors.registry import back_office_for

    connection = BackOfficeConnection(kind="dynamics_sl", endpoint=sl_connection.endpoint,
                                      options={"site_id": "MAIN", "ti_drop_dir": "/x", "ti_log_dir": "/y"})
    with pytest.raises(ConnectorError, match="option 'company_id' is required") as caught:
        back_office_for(connection).list_items()
    assert caught.value.permanent



def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_an_agent_that_crashes_after_the_import_committed_reports_it_and_never_imports_it_again(
        warehouse, sl_runner, sl_folders, backoffice, sl_connection):
    warehouse.add_item("CRASH-1", on_hand=5)
    sl_runner.restart_seconds = 0.3
    sl_runner.fault_plan.script("sales_order", "applied_then_reset")
    order = sales_order(amazon_order_id(), "RM24", [("85000000000002", "CRASH-1", 1)])
    ref = backoffice.create_sales_order(order)  # the hub sees the committed order while the agent is down
    assert ref and sl_runner.crashes == 1
    stem = next(sl_folders["drop"].glob("*.claimed")).name.split(".", 1)[0]
    assert wait_until(lambda: ti.read_log(sl_folders["log"], stem))  # back: the claimed file is reported
    assert ti.interrupted(ti.read_log(sl_folders["log"], stem))
    time.sleep(0.3)
    assert warehouse.order_count(order.amazon_order_id) == 1, "a restarted agent imported it twice"
    assert not list(sl_folders["drop"].iterdir())
    assert backoffice.create_sales_order(order) == ref  # a retry finds it and drops nothing


def test_an_agent_that_crashes_before_the_import_makes_the_hub_send_the_order_again(
        warehouse, sl_runner, sl_folders, backoffice, sl_connection):
    warehouse.add_item("CRASH-2", on_hand=5)
    sl_runner.restart_seconds = 0.3
    sl_runner.fault_plan.script("sales_order", "reset")
    order = sales_order(amazon_order_id(), "RM24", [("85000000000003", "CRASH-2", 1)])
    with pytest.raises(ConnectorError) as caught:
        backoffice.create_sales_order(order)
    assert not caught.value.permanent and "did not import it" in caught.value.message
    assert warehouse.order_count(order.amazon_order_id) == 0
    ref = backoffice.create_sales_order(order)  # the next try drops it again
    assert ref and warehouse.order_count(order.amazon_order_id) == 1


def test_a_value_too_wide_for_its_column_is_an_error_in_the_log_not_a_file_retried_for_ever(
        warehouse, sl_runner, sl_folders, backoffice):
    from connectors.dynamics_sl.orders import order_records

    warehouse.add_item("WIDE-1", on_hand=5)
    opts = backoffice.options
    order = sales_order(amazon_order_id(), "RM24", [("85000000000004", "WIDE-1", 1)])
    records = order_records(order, opts)
    records[0][1]["ShipName"] = "x" * 400  # written by something other than the hub's connector
    stem = ti.drop(sl_folders["drop"], ti.SALES_ORDER, order.amazon_order_id, opts.so_control_file,
                   ti.data_text(records, opts.ti_levels))
    assert wait_until(lambda: ti.read_log(sl_folders["log"], stem))
    log = ti.read_log(sl_folders["log"], stem)
    assert "Error" in log and "too long" in log, log
    assert wait_until(lambda: not list(sl_folders["drop"].glob("*.job"))), "the file is done with"
    assert warehouse.order_count(order.amazon_order_id) == 0
