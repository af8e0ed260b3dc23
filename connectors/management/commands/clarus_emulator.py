"""Run the Clarus WMS emulator with the demo tenant until Ctrl-C."""

from django.core.management.base import BaseCommand, CommandError

from connectors.clarus.emulator import ClarusEmulator
from connectors.demo_floor import LOOK_EVERY_SECONDS, Floor, every

DEMO_SUBDOMAIN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET = "demo", "demo-client", "demo-secret"
DEMO_PRODUCTS = 12


class Command(BaseCommand):
    """`clarus_emulator [--port 8200] [--webhook-url URL] [--seed N] [--deterministic] [--auto-dispatch SECONDS]`."""

    help = (
        "Serve the Clarus WMS emulator until Ctrl-C. It starts with the tenant 'demo' (X-Clarus-Subdomain: demo; "
        "OAuth client id 'demo-client', client secret 'demo-secret'; account id 1, warehouse id 1), products "
        "DEMO-001..DEMO-012 with stock, and the carrier services 'Royal Mail Tracked 24', 'Royal Mail Tracked 48', "
        "'DPD Next Day', 'Evri 48' and 'Parcelforce express24'. Operator controls: POST /_emulator/dispatch, "
        "/_emulator/adjust_stock, /_emulator/hold_stock (JSON bodies with \"subdomain\": \"demo\")."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8200)
        parser.add_argument("--webhook-url", default="",
                            help="where the demo tenant sends its webhooks, e.g. "
                                 "http://127.0.0.1:8000/hooks/clarus/<connection webhook token>/")
        parser.add_argument("--seed", type=int, default=0, help="seed of the webhook duplicates/reordering")
        parser.add_argument("--deterministic", action="store_true",
                            help="deliver each webhook once and in order")
        parser.add_argument("--auto-dispatch", type=float, default=0, metavar="SECONDS",
                            help="dispatch orders of the demo tenant once they have waited SECONDS (0: never)")

    def handle(self, *args, host, port, webhook_url, seed, deterministic, auto_dispatch, **options):
        try:
            emulator = ClarusEmulator(host, port, seed=seed, deterministic=deterministic)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        demo = emulator.add_tenant(DEMO_SUBDOMAIN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, webhook_url=webhook_url,
                                   account_id=1, warehouse_id=1)
        for n in range(1, DEMO_PRODUCTS + 1):
            demo.add_item(f"DEMO-{n:03d}", on_hand=10 * n, description=f"Demo product {n}")
        self.stdout.write(
            f"Clarus WMS emulator on {emulator.url}: tenant {DEMO_SUBDOMAIN} (client {DEMO_CLIENT_ID} / "
            f"{DEMO_CLIENT_SECRET}, account 1, warehouse 1), {DEMO_PRODUCTS} products; webhooks to "
            f"{webhook_url or 'nowhere'}. Ctrl-C to stop."
        )
        if auto_dispatch > 0:
            floor = Floor(auto_dispatch)
            every(LOOK_EVERY_SECONDS, lambda: dispatch_waiting(demo, floor), name="clarus-auto-dispatch")
            self.stdout.write(f"Orders are dispatched {auto_dispatch:g}s after they come in.")
        try:
            emulator.server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the Clarus emulator.")
        finally:
            emulator.server.server_close()


def dispatch_waiting(tenant, floor):
    """One round of the demo's auto-dispatch: the operator's dispatch (and its webhook) for each due order."""
    return floor.ship_waiting(tenant.waiting_orders(), tenant.dispatch)
