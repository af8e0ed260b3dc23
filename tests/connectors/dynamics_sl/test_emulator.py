"""The Dynamics SL emulator as the demo runs it: seeded once, a TI runner process, the `ship` command."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from sqlalchemy import select

from connectors.dynamics_sl.emulator import SLEmulator, install
from connectors.dynamics_sl.tables import Inventory, ShipVia
from connectors.models import BackOfficeConnection
from connectors.registry import back_office_for
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_dynamics_sl import SL_COMPANY

pytestmark = pytest.mark.django_db
DEMO_COMPANY = "0099"
BASE_DIR = Path(__file__).resolve().parents[3]


def test_demo_seed_is_idempotent_and_keeps_stock_that_moved(sl_engine, sl_emulator):
    demo = SLEmulator(sl_engine, company_id=DEMO_COMPANY, site_id="DEMO")
    install(sl_engine)
    demo.seed_demo()
    demo.add_item("DEMO-001", on_hand=3)  # stock moved since the first start
    install(sl_engine)
    demo.seed_demo()
    with demo.engine.connect() as conn:
        items = conn.scalars(select(Inventory.c.InvtID).where(Inventory.c.InvtID.like("DEMO-%"))).all()
        vias = conn.scalars(select(ShipVia.c.ShipViaID).where(ShipVia.c.CpnyID == DEMO_COMPANY)).all()
    assert sorted(item.strip() for item in items) == [f"DEMO-{n:03d}" for n in range(1, 13)]
    assert sorted(via.strip() for via in vias) == ["DPDNEXT", "EVRI48", "PF24", "RM24", "RM48"]
    assert demo.open_lines("none") == {}
    from connectors.dynamics_sl.tables import ItemSite

    with demo.engine.connect() as conn:
        assert conn.scalar(select(ItemSite.c.QtyOnHand).where(ItemSite.c.InvtID == "DEMO-001")) == 3


def test_command_runs_the_ti_runner_until_interrupted_and_ships_in_two_packages(sl_engine, sl_emulator, tmp_path):
    url = sl_engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "dynamics_sl_emulator", "--url", url, "--company", DEMO_COMPANY,
         "--site", "DEMO", "--dir", str(tmp_path), "--poll", "0.05"],
        cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    try:
        output = []
        for line in process.stdout:
            output.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(output)
        assert "RM24 RM48 DPDNEXT EVRI48 PF24" in text, text
        settings = json.loads(text[text.index("{"):text.rindex("}") + 1])
        connection = BackOfficeConnection.objects.create(name="SL demo", kind=settings["kind"],
                                                         endpoint=settings["endpoint"],
                                                         username=settings["username"],
                                                         options={**settings["options"], "ti_poll_seconds": 0.05,
                                                                  "dispatch_settle_seconds": 0})
        backoffice = back_office_for(connection)
        order_id = amazon_order_id()
        ref = backoffice.create_sales_order(sales_order(order_id, "DPDNEXT", [
            ("90000000000001", "DEMO-001", 1), ("90000000000002", "DEMO-002", 2)]))
        call_command("dynamics_sl_emulator", "ship", order_id, "--tracking", "DPD-1", "--tracking", "DPD-2",
                     "--url", url, "--company", DEMO_COMPANY)
        [dispatch] = backoffice.list_dispatches("").dispatches
        assert (dispatch.back_office_ref, dispatch.ship_method) == (ref, "DPDNEXT")
        assert {p.tracking_number: [(ln.line_ref, ln.quantity) for ln in p.lines] for p in dispatch.packages} == {
            "DPD-1": [("90000000000001", 1)], "DPD-2": [("90000000000002", 2)]}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def _blocked_on_locks(engine, count, limit=10.0):
    """Wait until `count` sessions of this database wait for a lock."""
    import time

    from sqlalchemy import text

    ends = time.monotonic() + limit
    while time.monotonic() < ends:
        with engine.connect() as conn:
            waiting = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()"))
        if waiting >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited for a lock")


def test_stock_moves_taking_the_same_items_in_opposite_orders_wait_instead_of_deadlocking(
        backoffice, warehouse, sl_emulator):
    """Found by make chaos (seed 20261207): a shipment moved ItemSite rows in the order of its lines while
    another stock move (here a cancellation freeing its allocation) went in the opposite order, and
    PostgreSQL killed the shipment as a deadlock victim. Every stock move of the emulator now locks its
    ItemSite rows in key order first (imports.lock_sites)."""
    import threading

    from connectors.dynamics_sl.emulator import imports
    from connectors.dynamics_sl.tables import ItemSite

    for code in ("LOCK-A", "LOCK-B"):
        warehouse.add_item(code, on_hand=10)
    shipped, cancelled = amazon_order_id(), amazon_order_id()
    backoffice.create_sales_order(sales_order(shipped, "RM24", [("72000000000001", "LOCK-A", 1),
                                                                ("72000000000002", "LOCK-B", 1)]))
    order_number = backoffice.create_sales_order(sales_order(cancelled, "RM24", [("72000000000003", "LOCK-B", 1),
                                                                                 ("72000000000004", "LOCK-A", 1)]))
    failures = []

    def run(move):
        try:
            move()
        except Exception as exc:  # noqa: BLE001 - the test reports whatever ended a stock move
            failures.append(exc)

    def cancel():
        with sl_emulator.engine.begin() as conn:
            assert imports.cancellations(conn, [(1, "cancel", {"CpnyID": SL_COMPANY, "OrdNbr": order_number,
                                                               "CustOrdNbr": cancelled})]) == []

    threads = [threading.Thread(target=run, args=(cancel,)),
               threading.Thread(target=run, args=(lambda: sl_emulator.ship(
                   shipped, [{"tracking_number": "TRACK-AB", "lines": None}]),))]
    with sl_emulator.engine.begin() as hold:  # someone in SL holds LOCK-B's row for a moment
        hold.execute(select(ItemSite.c.InvtID).where(ItemSite.c.InvtID == "LOCK-B").with_for_update())
        threads[0].start()
        _blocked_on_locks(sl_emulator.engine, 1)  # the B-then-A cancellation queues first
        threads[1].start()
        _blocked_on_locks(sl_emulator.engine, 2)
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert backoffice.get_sales_order_status(shipped).dispatched
    assert backoffice.get_sales_order_status(cancelled).status == "C"


def test_two_shipments_at_once_never_take_the_same_shipper_number(backoffice, warehouse, sl_emulator):
    """Found with the test above: two shipments at once both read the last ShipperID and took the next
    one, and the second failed on the key. SL numbers from a setup row it holds (imports.next_number)."""
    import threading

    warehouse.add_item("NUM-A", on_hand=50)
    failures, shipped = [], []
    for _ in range(5):
        orders = [amazon_order_id(), amazon_order_id()]
        for n, order_id in enumerate(orders):
            backoffice.create_sales_order(sales_order(order_id, "RM24", [(f"7300000000000{n}", "NUM-A", 1)]))
        start = threading.Barrier(2)

        def ship(order_id, start=start):
            start.wait()
            try:
                shipped.extend(sl_emulator.ship(order_id, [{"tracking_number": f"T-{order_id}", "lines": None}]))
            except Exception as exc:  # noqa: BLE001 - the test reports whatever ended a shipment
                failures.append(exc)

        threads = [threading.Thread(target=ship, args=(order_id,)) for order_id in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == [] and len(set(shipped)) == len(shipped) == 10
