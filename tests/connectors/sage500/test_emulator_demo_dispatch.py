"""The demo's warehouse floor (`sage500_emulator --serve --auto-dispatch SECONDS`): orders that waited long enough
ship; --auto-dispatch needs --serve, the one-shot install stays the default."""

import re
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.demo_floor import Floor
from connectors.management.commands.sage500_emulator import dispatch_waiting
from tests.connectors.backoffice_contract import amazon_order_id, sales_order

pytestmark = pytest.mark.django_db
DPD = re.compile(r"^\d{14}$")


def test_orders_waiting_longer_than_the_threshold_are_shipped_with_tracking(sage500, sage500_backoffice):
    sage500.add_item("DEMO-001", on_hand=10)
    waited = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(waited, "DPDNEXT",
                                                      [("11", "DEMO-001", 2), ("12", "DEMO-001", 1)]))
    time.sleep(1.2)
    fresh = amazon_order_id()
    sage500_backoffice.create_sales_order(sales_order(fresh, "DPDNEXT", [("21", "DEMO-001", 1)]))

    assert dispatch_waiting(sage500, Floor(1.0, straggler_share=1.0)) == []  # a straggler waits longer
    assert dispatch_waiting(sage500, Floor(1.0, straggler_share=0.0)) == [waited]

    assert sage500_backoffice.get_sales_order_status(waited).dispatched
    assert not sage500_backoffice.get_sales_order_status(fresh).dispatched
    (dispatch,) = sage500_backoffice.list_dispatches("").dispatches
    assert dispatch.amazon_order_id == waited and dispatch.ship_method == "DPDNEXT"
    assert all(DPD.match(package.tracking_number) for package in dispatch.packages)
    assert {line.line_ref: line.quantity for p in dispatch.packages for line in p.lines} == {"11": 2, "12": 1}


def test_auto_dispatch_needs_serve(sage500):
    with pytest.raises(CommandError, match="needs --serve"):
        call_command("sage500_emulator", "--auto-dispatch", "45")
