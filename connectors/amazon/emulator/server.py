"""Run the emulator on a local port, in a background thread (tests) or in the foreground (demo)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from wsgiref.simple_server import make_server

from connectors.emulator_http import KeepAliveHandler, KeepAliveServer

from . import generator, listings, reports, seeding
from .admin import confirmations
from .app import EmulatorApp
from .state import State, parse_iso

logger = logging.getLogger(__name__)


class QuietHandler(KeepAliveHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ["emulator.socket"] = self.connection  # so a scripted fault can drop the connection
        return environ

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        logger.debug("%s %s", self.address_string(), format % args)


class EmulatorServer:
    """A running emulator and the Python handle tests use to seed it, break it and inspect it."""

    def __init__(self, host="127.0.0.1", port=0, **credentials):
        self.state = State(**credentials)
        self.httpd = make_server(
            host, port, EmulatorApp(self.state), server_class=KeepAliveServer, handler_class=QuietHandler
        )
        self.url = f"http://{host}:{self.httpd.server_port}"
        self.state.base_url = self.url
        self.thread = None

    # -- running ------------------------------------------------------------------------------
    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="amazon-emulator", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever()

    def stop(self):
        self.httpd.stop()

    # -- who the emulated seller is -----------------------------------------------------------
    @property
    def seller_id(self):
        return self.state.seller_id

    @property
    def marketplace_id(self):
        return self.state.marketplace_id

    @property
    def client_id(self):
        return self.state.client_id

    @property
    def client_secret(self):
        return self.state.client_secret

    @property
    def refresh_token(self):
        return self.state.refresh_token

    # -- seeding and inspecting ---------------------------------------------------------------
    def reset(self):
        self.state.reset()

    def configure(self, *, token_ttl=None, lag_seconds=None, account_status=None):
        """Shorter token lifetimes (to test refresh), a different getOrders blind spot, or the account
        status the seller performance report gives (NORMAL, AT_RISK, DEACTIVATED) whatever the figures."""
        if account_status is not None:
            self.state.account_status = account_status
        if token_ttl is not None:
            self.state.token_ttl = token_ttl
        if lag_seconds is not None:
            self.state.lag_seconds = lag_seconds

    def advance_clock(self, seconds):
        self.state.advance_clock(seconds)

    def load(self, response):
        return seeding.load_orders(self.state, response)

    def make_order(self, **overrides):
        return generator.make_order(self.state, **overrides)

    def generate(self, count):
        return generator.generate(self.state, count)

    def arriving_order(self):
        """One new demo order, visible to the next getOrders poll (the demo's --stream adds one now and then)."""
        return generator.arriving_order(self.state)

    def cancel_order(self, order_id, reason="BuyerCanceled"):
        """Cancel as Amazon would, stamped just outside getOrders' blind spot so the next poll sees it."""
        seeding.cancel_order(self.state, order_id, reason, at=self._visible_change_time(order_id))

    def request_cancellation(self, order_id, reason="BuyerCanceled"):
        """The buyer asks to cancel; the order stays to ship until the seller acts (next poll sees it)."""
        seeding.request_cancellation(self.state, order_id, reason, at=self._visible_change_time(order_id))

    def _visible_change_time(self, order_id):
        with self.state.lock:
            visible = self.state.now() - dt.timedelta(seconds=self.state.lag_seconds + 1)
            previous = (
                parse_iso(self.state.orders[order_id].order["LastUpdateDate"])
                if order_id in self.state.orders
                else None
            )
            return max(visible, previous or visible)

    def order(self, order_id):
        """The stored v0 order (with PII and status) and its items, for assertions."""
        with self.state.lock:
            record = self.state.orders[order_id]
            return {**record.order, "OrderItems": [dict(item) for item in record.items]}

    def confirmations(self, order_id):
        return confirmations(self.state, order_id)

    def add_listing(self, sku, quantity=0, handling_days=2, product_type="PRODUCT"):
        listings.add_listing(self.state, sku, quantity, handling_days, product_type)

    def listing(self, sku):
        return listings.listing_view(self.state, sku)

    def add_settlement_report(self, text, created=None):
        return reports.add_settlement_report(self.state, text, created)

    def set_faults(self, **faults):
        self.state.set_faults(**faults)

    @property
    def fault_plan(self):
        """Scripted and seeded faults per operation: `emulator.fault_plan.script("confirmShipment", "429")`."""
        return self.state.fault_plan

    @property
    def sqs_queue_url(self):
        """The queue ORDER_CHANGE notifications are published to (boto3: endpoint_url=self.url)."""
        from .sqs import queue_url

        return queue_url(self.state)

    @property
    def requests(self):
        with self.state.lock:
            return list(self.state.requests)
