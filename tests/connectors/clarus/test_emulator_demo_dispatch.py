"""The demo's warehouse floor (`clarus_emulator --auto-dispatch SECONDS`): orders that waited long enough go out."""

import re
import time

import pytest

from connectors.demo_floor import Floor
from connectors.management.commands.clarus_emulator import dispatch_waiting
from tests.connectors.backoffice_contract import amazon_order_id, sales_order

pytestmark = pytest.mark.django_db
ROYAL_MAIL = re.compile(r"^[A-Z]{2}\d{9}GB$")
DPD = re.compile(r"^\d{14}$")


def status(tenant, order_id):
    return tenant.goods_out(order_id)["attributes"]["goods_out_status_code"]


def packages(backoffice, order_id):
    (dispatch,) = [d for d in backoffice.list_dispatches("").dispatches if d.amazon_order_id == order_id]
    return {p.tracking_number: {line.line_ref: line.quantity for line in p.lines} for p in dispatch.packages}


def test_orders_waiting_longer_than_the_threshold_are_dispatched_with_tracking(clarus_tenant, clarus_backoffice):
    clarus_tenant.add_item("DEMO-001", on_hand=10)
    clarus_tenant.add_item("DEMO-002", on_hand=10)
    waited = amazon_order_id()
    clarus_backoffice.create_sales_order(sales_order(waited, "Royal Mail Tracked 24",
                                                     [("11", "DEMO-001", 2), ("12", "DEMO-002", 1)]))
    time.sleep(1.2)
    fresh = amazon_order_id()
    clarus_backoffice.create_sales_order(sales_order(fresh, "Royal Mail Tracked 24", [("21", "DEMO-001", 1)]))

    assert dispatch_waiting(clarus_tenant, Floor(1.0, straggler_share=1.0)) == []  # a straggler waits longer
    assert dispatch_waiting(clarus_tenant, Floor(1.0, straggler_share=0.0)) == [waited]

    assert (status(clarus_tenant, waited), status(clarus_tenant, fresh)) == ("COMPLETED", "PENDING")
    shipped = packages(clarus_backoffice, waited)
    assert all(ROYAL_MAIL.match(tracking) for tracking in shipped)
    assert {ref: qty for lines in shipped.values() for ref, qty in lines.items()} == {"11": 2, "12": 1}
    assert clarus_tenant.stock("DEMO-001")["attributes"]["on_hand"] == 8


def test_a_multi_line_order_can_go_in_two_packages_with_the_carriers_tracking(clarus_tenant, clarus_backoffice):
    clarus_tenant.add_item("DEMO-003", on_hand=5)
    clarus_tenant.add_item("DEMO-004", on_hand=5)
    order_id = amazon_order_id()
    clarus_backoffice.create_sales_order(sales_order(order_id, "DPD Next Day",
                                                     [("31", "DEMO-003", 1), ("32", "DEMO-004", 3)]))

    assert dispatch_waiting(clarus_tenant, Floor(0, straggler_share=0.0, split_share=1.0)) == [order_id]

    shipped = packages(clarus_backoffice, order_id)
    assert sorted(shipped.values(), key=len) == [{"31": 1}, {"32": 3}]
    assert all(DPD.match(tracking) for tracking in shipped)
