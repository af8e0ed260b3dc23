"""Run the Dynamics SL emulator for the demo, or ship an order in it.

    python manage.py dynamics_sl_emulator                      # install, seed, run the TI runner until Ctrl-C
    python manage.py dynamics_sl_emulator --auto-dispatch 45   # ... and ship each order 45s after it came in
    python manage.py dynamics_sl_emulator ship 202-1234567-1234567 --tracking RM123456789GB [--tracking ...]
"""

import json
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from connectors.demo_floor import LOOK_EVERY_SECONDS, Floor, every
from connectors.dynamics_sl.emulator import DEFAULT_SCHEMA, SLEmulator, TIRunner, install
from connectors.dynamics_sl.emulator.warehouse import DEMO_SHIP_VIAS
from connectors.sql import django_database_url, safe_url


class Command(BaseCommand):
    """Starts the emulated Dynamics SL site (SL tables + Transaction Import runner) or ships an order in it."""

    help = "Run the Dynamics SL emulator (schema in the hub's database, TI runner, demo data), or ship an order."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["run", "ship"], default="run")
        parser.add_argument("order_id", nargs="?", help="ship: the Amazon order id (SOHeader.CustOrdNbr)")
        parser.add_argument("--tracking", action="append", default=[],
                            help="ship: a tracking number; give it once per package (one shipper each)")
        parser.add_argument("--ship-via", default=None, help="ship: ShipViaID (default: the order's)")
        parser.add_argument("--url", default="", help="SQLAlchemy URL (default: the hub's own database)")
        parser.add_argument("--schema", default=DEFAULT_SCHEMA)
        parser.add_argument("--company", default="0060", help="CpnyID of the demo company")
        parser.add_argument("--site", default="MAIN", help="SiteID of the demo warehouse")
        parser.add_argument("--dir", default=str(Path(settings.BASE_DIR) / "var" / "dynamics_sl"),
                            help="folder holding the TI drop, log and done folders")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at the drop folder")
        parser.add_argument("--auto-dispatch", type=float, default=0, metavar="SECONDS",
                            help="run: ship orders once they have waited SECONDS (0: never)")

    def handle(self, *args, action, **options):
        url = options["url"] or django_database_url(settings.DATABASES["default"])
        engine = create_engine(url)
        try:
            install(engine, options["schema"])
            emulator = SLEmulator(engine, company_id=options["company"], schema=options["schema"],
                                  site_id=options["site"])
            if action == "ship":
                self._ship(emulator, options)
            else:
                self._run(engine, emulator, url, options)
        finally:
            engine.dispose()

    def _ship(self, emulator, options):
        if not options["order_id"] or not options["tracking"]:
            raise CommandError("ship needs an Amazon order id and at least one --tracking number")
        order_id, trackings = options["order_id"], options["tracking"]
        open_lines = list(emulator.open_lines(order_id).items())
        if len(trackings) > len(open_lines):
            raise CommandError(f"order {order_id} has {len(open_lines)} open line(s): give at most that many "
                               "tracking numbers")
        # Line i goes in package i modulo the number of packages.
        packages = [{"tracking_number": tracking, "lines": dict(open_lines[index::len(trackings)])}
                    for index, tracking in enumerate(trackings)]
        try:
            shippers = emulator.ship(order_id, packages, ship_via=options["ship_via"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Shipped {order_id}: shipper(s) {', '.join(shippers)}")

    def _run(self, engine, emulator, url, options):
        emulator.seed_demo()
        base = Path(options["dir"])
        folders = {name: base / name for name in ("drop", "log", "done")}
        runner = TIRunner(engine, drop_dir=folders["drop"], log_dir=folders["log"], done_dir=folders["done"],
                          schema=options["schema"], poll_seconds=options["poll"]).start()
        login = make_url(url)
        connection = {
            "kind": "dynamics_sl",
            "endpoint": login.set(username=None, password=None).render_as_string(),
            "username": login.username or "",
            "options": {"company_id": options["company"], "site_id": options["site"], "schema": options["schema"],
                        "ti_drop_dir": str(folders["drop"]), "ti_log_dir": str(folders["log"]),
                        "ti_poll_seconds": 1},
        }
        self.stdout.write(f"Dynamics SL emulator: schema {options['schema']!r} in {safe_url(url)}, "
                          f"company {options['company']}, site {options['site']}")
        self.stdout.write(f"Ship methods (ShipViaID = the hub's ship method code): {' '.join(DEMO_SHIP_VIAS)}")
        self.stdout.write("Items DEMO-001..DEMO-012 in stock. Hub connection settings (the secret is the "
                          "database password, if any):")
        self.stdout.write(json.dumps(connection, indent=2))
        if options["auto_dispatch"] > 0:
            floor = Floor(options["auto_dispatch"])
            every(LOOK_EVERY_SECONDS, lambda: dispatch_waiting(emulator, floor), name="dynamics-sl-auto-dispatch")
            self.stdout.write(f"Orders are shipped {options['auto_dispatch']:g}s after they come in.")
        # Ctrl-C stops it even when started in the background, where SIGINT is inherited as ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.stdout.write(f"TI runner watching {folders['drop']}; Ctrl-C to stop.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping the TI runner.")
        finally:
            runner.stop()


def dispatch_waiting(emulator, floor):
    """One round of the demo's auto-dispatch: the emulator's ship (one shipper per package) for each due order."""
    return floor.ship_waiting(emulator.waiting_orders(), emulator.ship)
