"""The demo's warehouse floor (`dynamics_sl_emulator --auto-dispatch SECONDS`): orders that waited long enough ship."""

import re
import time

import pytest

from connectors.demo_floor import Floor
from connectors.management.commands.dynamics_sl_emulator import dispatch_waiting
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_dynamics_sl import SL_SHIP_VIA

pytestmark = pytest.mark.django_db(transaction=True)
ROYAL_MAIL = re.compile(r"^[A-Z]{2}\d{9}GB$")


def test_orders_waiting_longer_than_the_threshold_are_shipped_with_tracking(backoffice, sl_emulator):
    sl_emulator.add_item("DEMO-001", on_hand=10)
    waited = amazon_order_id()
    backoffice.create_sales_order(sales_order(waited, SL_SHIP_VIA, [("11", "DEMO-001", 2), ("12", "DEMO-001", 1)]))
    time.sleep(1.2)
    fresh = amazon_order_id()
    backoffice.create_sales_order(sales_order(fresh, SL_SHIP_VIA, [("21", "DEMO-001", 1)]))

    assert dispatch_waiting(sl_emulator, Floor(1.0, straggler_share=1.0)) == []  # a straggler waits longer
    assert dispatch_waiting(sl_emulator, Floor(1.0, straggler_share=0.0)) == [waited]

    assert sl_emulator.open_lines(waited) == {}
    assert sl_emulator.open_lines(fresh) == {"21": 1}
    (dispatch,) = [d for d in backoffice.list_dispatches("").dispatches if d.amazon_order_id == waited]
    assert all(ROYAL_MAIL.match(package.tracking_number) for package in dispatch.packages)
    assert {line.line_ref: line.quantity for p in dispatch.packages for line in p.lines} == {"11": 2, "12": 1}
    assert backoffice.get_sales_order_status(waited).dispatched
