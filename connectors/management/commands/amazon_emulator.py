"""Run the local SP-API emulator, or load Amazon-shaped orders into one that is running."""

import json
import logging

import requests
from django.core.management.base import BaseCommand, CommandError

from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.generator import CATALOGUE
from connectors.demo_floor import every

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    """`amazon_emulator [--port 8100] [--generate N] [--stream SECONDS] [--quota-multiplier X]` or `... load FILE`."""

    help = "Serve the Amazon SP-API emulator until Ctrl-C, or load a getOrders/searchOrders JSON file into it."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["serve", "load"], default="serve")
        parser.add_argument("file", nargs="?", help="for load: a getOrders or searchOrders response (JSON)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--url", help="for load: the running emulator (default http://HOST:PORT)")
        parser.add_argument("--generate", type=int, default=0, help="demo orders to create at start")
        parser.add_argument("--stream", type=float, default=0, metavar="SECONDS",
                            help="one more demo order about every SECONDS seconds (0: none)")
        parser.add_argument("--quota-multiplier", type=float, default=1.0)
        parser.add_argument("--no-demo-listings", action="store_true", help="start without the DEMO-SKU listings")

    def handle(self, *args, **options):
        if options["action"] == "load":
            return self.load(options)
        return self.serve(options)

    def load(self, options):
        if not options["file"]:
            raise CommandError("load needs a FILE: a getOrders or searchOrders response saved as JSON")
        try:
            with open(options["file"], encoding="utf-8") as handle:
                payload = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        url = options["url"] or f"http://{options['host']}:{options['port']}"
        try:
            answer = requests.post(f"{url}/_emulator/orders", json=payload, timeout=30)
        except requests.RequestException as exc:
            raise CommandError(f"no emulator answering at {url}: {exc}") from None
        if answer.status_code != 201:
            raise CommandError(f"the emulator refused {options['file']}: {answer.text}")
        ids = answer.json()["orderIds"]
        self.stdout.write(f"Loaded {len(ids)} order(s) into {url}")

    def serve(self, options):
        try:
            server = EmulatorServer(options["host"], options["port"])
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from None
        server.set_faults(quota_multiplier=options["quota_multiplier"])
        if not options["no_demo_listings"]:
            for sku in CATALOGUE:
                server.add_listing(sku, quantity=0, handling_days=2)
        if options["generate"]:
            server.generate(options["generate"])
        stream = ""
        if options["stream"] > 0:
            every(options["stream"], server.arriving_order, name="amazon-order-stream", jitter=0.3)
            stream = f", one more about every {options['stream']:g}s"
        self.stdout.write(
            f"Amazon SP-API emulator on {server.url} (seller {server.seller_id}, marketplace {server.marketplace_id}, "
            f"LWA client id {server.client_id}); {options['generate']} order(s) generated{stream}. Ctrl-C to stop."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the Amazon emulator.")
        finally:
            server.httpd.server_close()
