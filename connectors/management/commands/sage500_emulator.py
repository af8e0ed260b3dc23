"""Install and seed the Sage 500 emulator (and ship demo orders), for `make run` and the demo.

    python manage.py sage500_emulator                      # install + seed company DEM, print the settings, exit
    python manage.py sage500_emulator --connection "Sage 500 (demo)"   # ... and save that hub connection
    python manage.py sage500_emulator --serve --auto-dispatch 45   # ... then ship each order 45s after it came in
    python manage.py sage500_emulator ship 202-1234567-7654321 --tracking RM123456789GB [--ship-method RM48]

It installs into the hub's own database (settings DATABASES default) unless --url names another;
running it again changes nothing already seeded. The command exits once done (nothing to keep running:
the emulator lives in the database), unless --serve keeps it running for the demo's warehouse floor.
"""

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from sqlalchemy.engine import make_url

from connectors.choices import BackOfficeKind
from connectors.demo_floor import LOOK_EVERY_SECONDS, Floor, every
from connectors.sage500.emulator import SCHEMA, Sage500Emulator, emulator_engine, install
from connectors.sql import django_database_url


class Command(BaseCommand):
    help = "Install and seed the Sage 500 emulator, or ship an order in it (ship AMAZON_ORDER_ID)."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["install", "ship"], default="install")
        parser.add_argument("amazon_order_id", nargs="?", help="ship: the Amazon order to ship (all open lines)")
        parser.add_argument("--url", help="SQLAlchemy URL of the Postgres database (default: the hub's own)")
        parser.add_argument("--schema", default=SCHEMA, help=f"schema for the emulator (default {SCHEMA})")
        parser.add_argument("--company", default="DEM", help="CompanyID to seed (default DEM)")
        parser.add_argument("--connection", help="install: also save a hub BackOfficeConnection of this name")
        parser.add_argument("--tracking", help="ship: tracking number of the one package")
        parser.add_argument("--ship-method", help="ship: ShipMethID if not the order's own")
        parser.add_argument("--serve", action="store_true", help="install: then keep running until Ctrl-C")
        parser.add_argument("--auto-dispatch", type=float, default=0, metavar="SECONDS",
                            help="with --serve: ship orders once they have waited SECONDS (0: never)")

    def handle(self, *args, **opts):
        if opts["auto_dispatch"] and not opts["serve"]:
            raise CommandError("--auto-dispatch needs --serve: the warehouse floor runs while the command does")
        url = make_url(opts["url"]) if opts["url"] else django_database_url(settings.DATABASES["default"])
        engine = emulator_engine(url, opts["schema"])
        try:
            sage = Sage500Emulator(engine, company_id=opts["company"])
            if opts["action"] == "ship":
                self.ship(sage, opts)
            else:
                self.install(engine, sage, url, opts)
                if opts["serve"]:
                    self.serve(sage, opts)
        finally:
            engine.dispose()

    def install(self, engine, sage, url, opts):
        install(engine, opts["schema"])
        sage.seed_demo()
        endpoint = url._replace(username=None, password=None).render_as_string(hide_password=False)
        options = sage.connection_options()
        self.stdout.write(f"Sage 500 emulator ready in schema {options['schema']}, company {sage.company_id}.")
        self.stdout.write(f"  endpoint: {endpoint}")
        self.stdout.write(f"  username: {url.username or ''} (secret: the database password, if any)")
        self.stdout.write(f"  options:  {json.dumps(options)}")
        if opts["connection"]:
            from connectors.models import BackOfficeConnection

            BackOfficeConnection.objects.update_or_create(name=opts["connection"], defaults={
                "kind": BackOfficeKind.SAGE500, "endpoint": endpoint, "username": url.username or "",
                "secret": url.password or "", "options": options})
            self.stdout.write(f"  saved as hub connection {opts['connection']!r}")

    def serve(self, sage, opts):
        if opts["auto_dispatch"] > 0:
            floor = Floor(opts["auto_dispatch"])
            every(LOOK_EVERY_SECONDS, lambda: dispatch_waiting(sage, floor), name="sage500-auto-dispatch")
            self.stdout.write(f"Orders are shipped {opts['auto_dispatch']:g}s after they come in.")
        self.stdout.write("Sage 500 emulator running; Ctrl-C to stop.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping the Sage 500 emulator.")

    def ship(self, sage, opts):
        if not opts["amazon_order_id"]:
            raise CommandError("ship needs the Amazon order id: sage500_emulator ship 202-1234567-7654321")
        try:
            tran_id = sage.ship(opts["amazon_order_id"], ship_method=opts["ship_method"],
                                tracking_number=opts["tracking"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Shipped Amazon order {opts['amazon_order_id']} as Sage shipment {tran_id}.")


def dispatch_waiting(sage, floor):
    """One round of the demo's auto-dispatch: the emulator's ship (packages with tracking) for each due order."""
    return floor.ship_waiting(sage.waiting_orders(), sage.ship)
