"""Dispatch data read from each back office (Clarus shipment nodes, the cursors of all three, the
Dynamics SL runner's job file) ends as a value or as a clear error, never an unhandled exception
(hypothesis)."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ConnectorError
from connectors.clarus import client as clarus_client
from connectors.clarus.queries import dispatch_from_shipment
from connectors.dynamics_sl import client as sl_client
from connectors.dynamics_sl.ti import parse_job
from connectors.sage500.reads import dispatch_cursor, parse_dispatch_cursor
from tests.strategies import mutated

FAST = settings(max_examples=200, deadline=None)

SHIPMENT = {
    "id": 41, "dispatched_at": "2026-11-05T10:00:00Z", "tracking_number": "RM123",
    "goods_out": {"id": 9, "reference": "202-1234567-1234567"},
    "carrier": {"name": "Royal Mail", "code": "RM"}, "carrier_service": {"name": "RM24", "code": "RM24"},
    "packages": [{"reference": "P1", "tracking_number": "RM123", "package_lines": [
        {"quantity": 2, "goods_out_line": {"alt_line_reference": "70000000000001", "product": {"code": "MUG"}}}]}],
}


def test_a_good_clarus_shipment_reads():
    dispatch = dispatch_from_shipment(SHIPMENT, ship_method_field="name", tracking_on="package")
    assert dispatch.amazon_order_id == "202-1234567-1234567"
    assert dispatch.packages[0].lines[0].quantity == 2


@FAST
@given(mutated(SHIPMENT), st.sampled_from(["package", "shipment"]))
def test_any_clarus_shipment_node_reads_or_is_refused_naming_the_shipment(node, tracking_on):
    try:
        dispatch = dispatch_from_shipment(node, ship_method_field="name", tracking_on=tracking_on)
    except ConnectorError as exc:
        assert exc.permanent and exc.message.startswith("Clarus")
    else:
        assert isinstance(dispatch.amazon_order_id, str) and dispatch.shipped_at.tzinfo is not None
        assert all(line.quantity >= 0 for package in dispatch.packages for line in package.lines)


@pytest.mark.parametrize("parse", [clarus_client._parse_cursor, sl_client._parse_cursor], ids=["clarus", "sl"])
@FAST
@given(text=st.text(max_size=40))
def test_any_cursor_text_parses_or_is_refused_permanently(parse, text):
    try:
        parse(text)
    except ConnectorError as exc:
        assert exc.permanent and "cursor" in exc.message


@FAST
@given(st.text(max_size=40))
def test_any_sage_cursor_parses_or_names_the_cursor(text):
    try:
        last, gaps = parse_dispatch_cursor(text)
    except ValueError as exc:
        assert "Sage 500 dispatch cursor" in str(exc)
    else:
        assert parse_dispatch_cursor(dispatch_cursor(last, gaps))[0] == last  # what it writes, it reads back


@given(st.integers(0, 10**9), st.dictionaries(st.integers(0, 10**9), st.integers(0, 2 * 10**9), max_size=5))
def test_sage_cursor_round_trips(last, gaps):
    assert parse_dispatch_cursor(dispatch_cursor(last, gaps)) == (last, {k: float(v) for k, v in gaps.items()})


@FAST
@given(st.text(max_size=200))
def test_any_runner_job_file_parses_to_text_fields(text):
    fields = parse_job(text)
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in fields.items())


def test_sl_cursor_reads_what_it_writes():
    moment = dt.datetime(2026, 11, 5, 10, 0)
    assert sl_client._parse_cursor(f"{moment.isoformat()}|SH0001") == (moment, "SH0001")
