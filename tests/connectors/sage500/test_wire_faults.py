"""Sage 500 failing the way SQL Server does, through the fault proxy on the wire (connectors.sql_faults):
connection resets, statements that hang, deadlock victims, and COMMITs whose reply is lost. The
connector must neither double nor lose an import, and must read every failure as worth retrying."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.engine import make_url

from connectors.base import ConnectorError, JournalPost, JournalPostLine
from connectors.registry import back_office_for
from connectors.sql import dispose_engines
from connectors.sql_faults import SqlFaultProxy, through, upstream_of
from integration_hub.exchanges.models import Exchange
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_sage500 import SHIP_METHOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def proxy(sage500_url):
    running = SqlFaultProxy(upstream_of(sage500_url)).start()
    running.plan.hold_seconds = 0.3
    yield running
    dispose_engines()
    running.stop()


@pytest.fixture
def sage(proxy, sage500, sage500_connection):
    """The Sage 500 connector reaching the emulator through the proxy."""
    url = through(make_url(sage500_connection.endpoint), proxy)
    sage500_connection.endpoint = url.render_as_string(hide_password=False)
    sage500_connection.save()
    return back_office_for(sage500_connection)


def order_for(item_code="WIDGET-1"):
    order_id = amazon_order_id()
    return order_id, sales_order(order_id, SHIP_METHOD, [("11111111111111", item_code, 1)])


def test_an_import_committed_whose_reply_is_lost_is_found_not_doubled(proxy, sage, sage500):
    sage500.add_item("WIDGET-1", on_hand=5)
    order_id, order = order_for()
    proxy.plan.script("spSOapiSalesOrdIns", "applied_then_reset")
    with pytest.raises(ConnectorError) as lost:
        sage.create_sales_order(order)
    assert not lost.value.permanent, lost.value.message
    assert sage500.order_count(order_id) == 1, "the COMMIT took effect although its reply was lost"
    again = sage.create_sales_order(order)  # the work item's retry
    assert sage500.order_count(order_id) == 1
    assert again == sage.get_sales_order_status(order_id).back_office_ref
    assert proxy.plan.fired == [("spSOapiSalesOrdIns", "applied_then_reset")]


def test_a_deadlock_victim_is_rolled_back_and_retried(proxy, sage, sage500):
    sage500.add_item("WIDGET-1", on_hand=5)
    order_id, order = order_for()
    proxy.plan.script("spSOapiSalesOrdIns", "deadlock")
    with pytest.raises(ConnectorError) as victim:
        sage.create_sales_order(order)
    assert not victim.value.permanent
    assert "deadlock" in victim.value.message
    assert sage500.order_count(order_id) == 0
    sage.create_sales_order(order)
    assert sage500.order_count(order_id) == 1
    failed = Exchange.objects.filter(operation="spSOapiSalesOrdIns", outcome="transient")
    assert failed.count() == 1 and "deadlock" in failed.get().error


def test_a_reset_while_staging_applies_nothing(proxy, sage, sage500):
    sage500.add_item("WIDGET-1", on_hand=5)
    order_id, order = order_for()
    proxy.plan.script("stage", "reset")
    with pytest.raises(ConnectorError) as reset:
        sage.create_sales_order(order)
    assert not reset.value.permanent
    assert sage500.order_count(order_id) == 0
    with sage500.engine.connect() as conn:
        staged = conn.exec_driver_sql("SELECT count(*) FROM StgSalesOrder").scalar()
    assert staged == 0, "no staged rows from the reset transaction"
    sage.create_sales_order(order)
    assert sage500.order_count(order_id) == 1


def test_a_read_that_hangs_is_given_up_and_asked_again(proxy, sage, sage500):
    sage500.add_item("WIDGET-1", on_hand=5)
    order_id, order = order_for()
    sage.create_sales_order(order)
    sage500.ship(order_id, [{"tracking_number": "RM-WIRE-1", "lines": {"11111111111111": 1}}],
                 ship_method=SHIP_METHOD)
    proxy.plan.script("list dispatches", "timeout")
    page = sage.list_dispatches("")  # a read is tried again at once (READ_ATTEMPTS)
    assert [d.amazon_order_id for d in page.dispatches] == [order_id]
    attempts = Exchange.objects.filter(operation="list dispatches").order_by("attempt")
    assert [(row.attempt, row.outcome) for row in attempts] == [(1, "transient"), (2, "ok")]


def test_a_journal_whose_commit_reply_is_late_and_lost_is_one_batch(proxy, sage, sage500):
    journal = JournalPost(reference="SETTLE-WIRE-1", date=dt.date(2026, 11, 20), description="wire", currency="GBP",
                          lines=[JournalPostLine("1200", "Amazon deposit", Decimal("10.00"), Decimal("0")),
                                 JournalPostLine("4000", "Amazon sales", Decimal("0"), Decimal("10.00"))])
    proxy.plan.script("spglapiGLTransactionIns", "applied_then_timeout")
    with pytest.raises(ConnectorError):
        sage.post_journal(journal)
    assert len(sage500.gl_batches("SETTLE-WIRE-1")) == 1
    batch = sage.post_journal(journal)
    assert sage500.gl_batches("SETTLE-WIRE-1") == [batch]


def test_http_only_faults_are_refused_by_the_sql_plan(proxy):
    with pytest.raises(ValueError, match="unknown fault"):
        proxy.plan.script("stage", "html_502")
    proxy.plan.randomly({"deadlock": 0.5, "applied_then_reset": 0.5}, seed=7)
    assert {proxy.plan.next("stage") for _ in range(40)} == {"deadlock", "applied_then_reset"}
