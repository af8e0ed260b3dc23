import datetime as dt
from decimal import Decimal

import pytest

from connectors.base import ConnectorError
from integration_hub.finance.choices import ReconCategory
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.reconcile import reconcile
from tests.factories import OrderFactory, OrderLineFactory, SellerAccountFactory, ShipmentLineFactory
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream
from tests.finance.fakes import FakeBackOffice

pytestmark = pytest.mark.django_db
SHIPPED = dt.datetime(2026, 11, 3, 12, tzinfo=dt.timezone.utc)


def hub_order(account, order_id, sku="MUG", price="10.00", quantity=1, dispatched=None):
    order = OrderFactory(account=account, amazon_order_id=order_id)
    order_line = OrderLineFactory(order=order, sku=sku, quantity_ordered=quantity, item_price=Decimal(price))
    if dispatched:
        ShipmentLineFactory(shipment__order=order, shipment__shipped_at=SHIPPED, order_line=order_line,
                            quantity=dispatched)
    return order_line


def categories(settlement):
    return {(line.order_id, line.category) for line in settlement.reconciliation_lines.all()}


def imported(account, rows, **kwargs):
    return import_settlement(account, as_stream(settlement_text(rows, **kwargs))).settlement


def test_each_order_line_is_matched_to_dispatches_and_prices(gl_map, account):
    hub_order(account, "202-0000001-0000001", dispatched=1)
    hub_order(account, "202-0000002-0000002")  # never dispatched
    hub_order(account, "202-0000003-0000003", price="12.00", dispatched=1)  # Amazon paid 10.00
    hub_order(account, "202-0000004-0000004", quantity=2, price="20.00", dispatched=1)  # 2 settled, 1 sent
    rows = (order_lines("202-0000001-0000001", "MUG", "10.00") + order_lines("202-0000002-0000002", "MUG", "10.00")
            + order_lines("202-0000003-0000003", "MUG", "10.00", tax="2.00")
            + order_lines("202-0000004-0000004", "MUG", "20.00", quantity=2)
            + order_lines("202-0000005-0000005", "MUG", "10.00")  # the hub never saw this order
            + order_lines("202-0000006-0000006", "MUG", "10.00", fulfillment="AFN"))
    settlement = imported(account, rows)
    assert categories(settlement) == {
        ("202-0000001-0000001", ReconCategory.MATCHED),
        ("202-0000002-0000002", ReconCategory.NOT_DISPATCHED),
        ("202-0000003-0000003", ReconCategory.AMOUNT_DIFFERS),
        ("202-0000004-0000004", ReconCategory.NOT_DISPATCHED),
        ("202-0000005-0000005", ReconCategory.NOT_DISPATCHED),
        ("202-0000006-0000006", ReconCategory.FULFILLED_BY_AMAZON),
    }
    lines = {line.order_id: line for line in settlement.reconciliation_lines.all()}
    assert lines["202-0000003-0000003"].note == "differs by -2.00"
    assert (lines["202-0000003-0000003"].settled_amount, lines["202-0000003-0000003"].order_amount) == (
        Decimal("10.00"), Decimal("12.00"))
    assert lines["202-0000004-0000004"].note == "2 settled, 1 dispatched"
    assert lines["202-0000005-0000005"].note == "order not in the hub"
    assert lines["202-0000001-0000001"].quantity_settled == lines["202-0000001-0000001"].quantity_dispatched == 1


def test_part_of_a_split_order_settles_at_its_share_of_the_price(gl_map, account):
    hub_order(account, "202-0000001-0000001", quantity=3, price="30.00", dispatched=1)
    settlement = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00", quantity=1))
    (line_,) = settlement.reconciliation_lines.all()
    assert (line_.category, line_.order_amount) == (ReconCategory.MATCHED, Decimal("10.00"))


def test_dispatched_but_not_settled_is_carried_forward_until_settled(gl_map, account):
    hub_order(account, "202-0000001-0000001", dispatched=1)
    hub_order(account, "202-0000009-0000009", dispatched=1)
    first = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00"))
    assert categories(first) == {("202-0000001-0000001", ReconCategory.MATCHED),
                                 ("202-0000009-0000009", ReconCategory.NOT_SETTLED)}
    carried = first.reconciliation_lines.get(category=ReconCategory.NOT_SETTLED)
    assert (carried.quantity_dispatched, carried.order_amount) == (1, Decimal("10.00"))

    second = imported(account, order_lines("202-0000009-0000009", "MUG", "10.00"), settlement_id="12345678902",
                      start="2026-11-15 00:00:00 UTC", end="2026-11-28 23:59:59 UTC")
    assert categories(second) == {("202-0000009-0000009", ReconCategory.MATCHED)}


def test_refunds_are_matched_to_their_orders(gl_map, account):
    hub_order(account, "202-0000001-0000001", dispatched=1)
    rows = [line("Refund", "ItemPrice", "Principal", "-10.00", order_id="202-0000001-0000001", sku="MUG"),
            line("Refund", "ItemFees", "Commission", "1.50", order_id="202-0000001-0000001", sku="MUG"),
            line("Refund", "ItemPrice", "Principal", "-4.00", order_id="202-0000007-0000007", sku="CUP")]
    settlement = imported(account, rows)
    lines = {line.order_id: line for line in settlement.reconciliation_lines.all()}
    assert (lines["202-0000001-0000001"].category, lines["202-0000001-0000001"].settled_amount) == (
        ReconCategory.REFUND_MATCHED, Decimal("-8.50"))
    assert lines["202-0000007-0000007"].category == ReconCategory.REFUND_UNMATCHED


def test_summary_counts_and_sums_per_category(gl_map, account):
    hub_order(account, "202-0000001-0000001", dispatched=1)
    hub_order(account, "202-0000002-0000002", dispatched=1)
    rows = (order_lines("202-0000001-0000001", "MUG", "10.00") + order_lines("202-0000002-0000002", "MUG", "10.00")
            + order_lines("202-0000003-0000003", "MUG", "7.00"))
    summary = {row["category"]: (row["count"], row["settled"]) for row in
               imported(account, rows).reconciliation_summary()}
    assert summary == {ReconCategory.MATCHED: (2, Decimal("20.00")),
                       ReconCategory.NOT_DISPATCHED: (1, Decimal("7.00"))}


def test_back_office_sales_orders_are_checked_outside_the_import(gl_map, monkeypatch):
    account = SellerAccountFactory()
    fake = FakeBackOffice(orders={"202-0000001-0000001": "SO-1001"})
    monkeypatch.setattr("connectors.registry.back_office_for", lambda connection: fake)
    hub_order(account, "202-0000001-0000001", dispatched=1)
    settlement = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00")
                          + order_lines("202-0000002-0000002", "MUG", "5.00"))
    lines = {line.order_id: line for line in settlement.reconciliation_lines.all()}
    assert (lines["202-0000001-0000001"].back_office_ref, lines["202-0000001-0000001"].back_office_status) == (
        "SO-1001", "Invoiced")
    assert lines["202-0000002-0000002"].back_office_status == "not found"
    assert fake.status_calls == ["202-0000001-0000001", "202-0000002-0000002"]
    assert settlement.reconciliation_note == ""


def test_back_office_down_leaves_orders_unchecked_with_a_note(gl_map, monkeypatch):
    account = SellerAccountFactory()
    fake = FakeBackOffice(fail_with=ConnectorError("connection refused", permanent=False))
    monkeypatch.setattr("connectors.registry.back_office_for", lambda connection: fake)
    settlement = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00")
                          + order_lines("202-0000002-0000002", "MUG", "5.00"))
    assert fake.status_calls == ["202-0000001-0000001"]
    assert "stopped at order 202-0000001-0000001: connection refused" in settlement.reconciliation_note
    assert {line.back_office_status for line in settlement.reconciliation_lines.all()} == {""}


def test_without_a_back_office_the_check_is_noted_as_not_done(gl_map, account):
    settlement = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00"))
    assert settlement.reconciliation_note.startswith("No back office is set")
    assert settlement.reconciled_at is not None


def test_reconciling_again_replaces_the_lines(gl_map, account):
    settlement = imported(account, order_lines("202-0000001-0000001", "MUG", "10.00"))
    assert categories(settlement) == {("202-0000001-0000001", ReconCategory.NOT_DISPATCHED)}
    hub_order(account, "202-0000001-0000001", dispatched=1)
    reconcile(settlement)
    assert categories(settlement) == {("202-0000001-0000001", ReconCategory.MATCHED)}
