"""A running Clarus emulator: a threading WSGI server on loopback, its tenants and operator controls."""

import inspect
import logging
import secrets
import threading
import time

from connectors.clarus.emulator.app import EmulatorApp
from connectors.clarus.emulator.records import ClarusError, now
from connectors.clarus.emulator.rest import goods_out_resource, shipment_resource
from connectors.clarus.emulator.store import Tenant
from connectors.clarus.emulator.webhooks import WebhookSender
from connectors.emulator_http import KeepAliveHandler, KeepAliveServer
from connectors.faults import FaultPlan

logger = logging.getLogger(__name__)

# Every tenant starts with these carriers; the service *name* is the ship method the hub sees.
STANDARD_SERVICES = [
    ("ROYALMAIL", "Royal Mail", "TRACKED24", "Royal Mail Tracked 24"),
    ("ROYALMAIL", "Royal Mail", "TRACKED48", "Royal Mail Tracked 48"),
    ("DPD", "DPD", "NEXT", "DPD Next Day"),
    ("EVRI", "Evri", "EVRI48", "Evri 48"),
    ("PARCELFORCE", "Parcelforce", "EXPRESS24", "Parcelforce express24"),
]


class _Handler(KeepAliveHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ["clarus.socket"] = self.connection  # lets the app drop a reply on purpose
        return environ

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        logger.debug("clarus emulator: " + format, *args)


class ClarusEmulator:
    """The emulator process state: tenants by subdomain, issued tokens, webhook sender, one lock."""

    def __init__(self, host="127.0.0.1", port=0, *, seed=0, deterministic=False, token_lifetime=7200):
        self.lock = threading.RLock()
        self.tenants = {}
        self.tokens = {}  # token -> (subdomain, expires at)
        self.token_lifetime = token_lifetime
        self.webhooks = WebhookSender(seed=seed, deterministic=deterministic)
        self._webhook_urls = {}
        self._webhook_keys = {}  # subdomain -> HMAC key the tenant signs deliveries with
        self.fault_plan = FaultPlan()  # scripted and seeded faults per operation (connectors.faults)
        self.outage = None  # an HTTP status every API call gets while the "site" is down (set_outage)
        self.server = KeepAliveServer((host, port), _Handler)
        self.server.set_app(EmulatorApp(self))
        self._thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, name="clarus-emulator", daemon=True)
        self._thread.start()
        return self

    def set_outage(self, status=503):
        """Take the API down (every call but /_emulator answers `status`), or bring it back with None."""
        self.outage = status

    def stop(self):
        self.server.stop()

    def add_tenant(self, subdomain, client_id, client_secret, *, webhook_url="", account_id=None, warehouse_id=None):
        """A new tenant with the standard carriers; account and warehouse ids may be fixed (the demo uses 1)."""
        with self.lock:
            if subdomain in self.tenants:
                raise ClarusError(f"tenant {subdomain} exists", status=400, code="tenant_exists")
            tenant = Tenant(subdomain, client_id, client_secret, account_id=account_id, warehouse_id=warehouse_id)
            for service in STANDARD_SERVICES:
                tenant.add_carrier_service(*service)
            self.tenants[subdomain] = tenant
            self._webhook_urls[subdomain] = webhook_url
        return TenantHandle(self, tenant)

    def tenant(self, subdomain):
        with self.lock:
            if subdomain not in self.tenants:
                raise ClarusError(f"no tenant {subdomain}", status=404, code="not_found")
            return TenantHandle(self, self.tenants[subdomain])

    def issue_token(self, subdomain, client_id, client_secret):
        with self.lock:
            tenant = self.tenants.get(subdomain)
            if tenant is None or not client_id or tenant.clients.get(client_id) != client_secret:
                return None
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (subdomain, time.monotonic() + self.token_lifetime)
            return token, self.token_lifetime

    def tenant_for_token(self, token, subdomain):
        """The tenant a token was issued for, if it is still valid and matches the subdomain header."""
        with self.lock:
            issued_for, expires = self.tokens.get(token, ("", 0))
            if issued_for != subdomain or expires < time.monotonic():
                return None
            return self.tenants.get(subdomain)

    def fire(self, tenant, event, payload):
        url = self._webhook_urls.get(tenant.subdomain)
        if not url:
            return
        headers = {
            "X-ClarusWMS-Domain": f"{tenant.subdomain}.claruswms.emulator",
            "X-ClarusWMS-API-Domain": self.url,
            "X-ClarusWMS-Subdomain": tenant.subdomain,
            "X-ClarusWMS-Integration-ID": "1",
        }
        self.webhooks.send(url, event, headers, payload, signing_key=self._webhook_keys.get(tenant.subdomain, ""))

    def wait_for_webhooks(self, timeout=10):
        """Deliver anything held back and wait until every queued webhook has been attempted."""
        return self.webhooks.flush(timeout)

    def admin(self, action, body):
        """The /_emulator/<action> endpoints: `tenants` adds a tenant, the others call the
        TenantHandle method of that name on body["subdomain"] with the rest of the body as arguments."""
        if not isinstance(body, dict):
            raise ClarusError("the body must be a JSON object", status=400, code="invalid_body")
        if action == "tenants":
            return {"subdomain": _call(self.add_tenant, body).subdomain}
        if action not in TenantHandle.ADMIN_ACTIONS:
            raise ClarusError(f"unknown operator action {action!r}", status=404, code="not_found")
        arguments = dict(body)
        handle = self.tenant(arguments.pop("subdomain", ""))
        return _call(getattr(handle, action), arguments)


def _call(method, arguments):
    try:
        inspect.signature(method).bind(**arguments)
        return method(**arguments)
    except (TypeError, ValueError) as exc:  # wrong fields, or a quantity that is not a number
        raise ClarusError(f"{method.__name__}: {exc}", status=400, code="invalid_body") from None


class TenantHandle:
    """Operator controls on one tenant, as Python methods; /_emulator/<name> calls the same methods."""

    ADMIN_ACTIONS = ("add_item", "dispatch", "adjust_stock", "hold_stock", "set_webhook_url")
    ship_method = "Royal Mail Tracked 24"

    def __init__(self, emulator, tenant):
        self.emulator = emulator
        self.tenant = tenant

    @property
    def subdomain(self):
        return self.tenant.subdomain

    @property
    def client_id(self):
        return next(iter(self.tenant.clients))

    @property
    def client_secret(self):
        return self.tenant.clients[self.client_id]

    @property
    def account_id(self):
        return self.tenant.account.id

    @property
    def warehouse_id(self):
        return self.tenant.warehouse.id

    def add_item(self, item_code, on_hand=0, description=""):
        """Create a product assigned to the tenant's account, with stock on hand in its warehouse."""
        with self.emulator.lock:
            return {"id": self.tenant.add_product(item_code, on_hand=int(on_hand), description=description).id}

    def dispatch(self, reference, packages=None, ship_method=None, complete=True):
        """Ship an order (one or several packages) and fire the "sales order completed" webhook."""
        with self.emulator.lock:
            shipment = self.tenant.dispatch(reference, packages, ship_method=ship_method, complete=complete)
            if complete:
                order = shipment.goods_out
                shipments = [s for s in self.tenant.shipments if s.goods_out is order]
                self.emulator.fire(self.tenant, "sales_order_completed", goods_out_resource(order, shipments))
            return shipment_resource(shipment)

    def waiting_orders(self):
        """Open goods-outs as the floor sees them (the demo's auto-dispatch): reference, carrier service,
        {line reference or product code: quantity still to ship} and seconds since the order came in."""
        with self.emulator.lock:
            moment = now()
            return [{"order_id": order.reference,
                     "ship_method": order.carrier_service.name if order.carrier_service else "",
                     "lines": {line.alt_line_reference or line.product.code:
                               line.order_quantity - line.dispatch_quantity
                               for line in order.lines if line.order_quantity > line.dispatch_quantity},
                     "waiting": (moment - order.created_at).total_seconds()}
                    for order in self.tenant.goods_outs if order.status in ("PENDING", "ALLOCATED", "PICK")]

    def adjust_stock(self, item_code, quantity):
        """Positive or negative stock adjustment; fires the "stock adjustment" webhook."""
        return self._stock_event(self.tenant.adjust_stock, "stock_adjustment", item_code, int(quantity))

    def hold_stock(self, item_code, quantity):
        """Put stock on hold (or release it with a negative quantity); fires the "stock hold" webhook."""
        return self._stock_event(self.tenant.hold_stock, "stock_hold", item_code, int(quantity))

    def _stock_event(self, change, event, item_code, quantity):
        with self.emulator.lock:
            payload = _balance(change(item_code, quantity), quantity_change=quantity)
            self.emulator.fire(self.tenant, event, payload)
            return payload

    def set_webhook_url(self, url, signing_key=""):
        with self.emulator.lock:
            self.emulator._webhook_urls[self.subdomain] = url
            self.emulator._webhook_keys[self.subdomain] = signing_key
            return {"url": url, "signed": bool(signing_key)}

    def drop_next_create_response(self):
        """The next goods-out create is applied, but its reply is lost (connection dropped)."""
        self.emulator.fault_plan.script("create_goods_out", "applied_then_reset")

    def order_count(self, reference):
        with self.emulator.lock:
            return len(self.tenant.goods_outs_for(reference))

    def goods_out(self, reference):
        """The latest goods-out for a reference, as the REST API shows it (None if there is none)."""
        with self.emulator.lock:
            orders = self.tenant.goods_outs_for(reference)
            return goods_out_resource(orders[-1]) if orders else None

    def stock(self, item_code):
        with self.emulator.lock:
            product = self.tenant.product_by_code(item_code)
            return _balance(self.tenant.balance(product)) if product else None

    def revoke_tokens(self):
        """End every API session of this tenant (as an interactive login on the API user does)."""
        with self.emulator.lock:
            for token, (subdomain, _) in list(self.emulator.tokens.items()):
                if subdomain == self.subdomain:
                    del self.emulator.tokens[token]


def _balance(balance, **extra):
    return {"type": "stock_balances", "id": balance.id, "attributes": {
        "product_code": balance.product.code, "account_id": balance.account.id,
        "warehouse_id": balance.warehouse.id, "on_hand": balance.on_hand, "allocated": balance.allocated,
        "held": balance.held, "available": balance.available, **extra}}
