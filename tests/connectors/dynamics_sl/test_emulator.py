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
