"""The chaos run's world: three Amazon sellers, each with its own back office of a different kind (Clarus
WMS over HTTP, Dynamics SL through its Transaction Import runner, Sage 500 over SQL through a proxy that
fails the way a SQL Server connection does), a warehouse floor that ships what it is given, and the checks
of the hub's promises read from the emulators' own state (never from the hub's).

Everything the run creates is named "chaos-..." (accounts, connections) or lives in the "chaos_sl" and
"chaos_sage" schemas, so the run can share a database with a hub and clean up after itself.
"""

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.generator import CATALOGUE, SHIP_LEVELS
from connectors.clarus.emulator import ClarusEmulator
from connectors.dynamics_sl.emulator import SLEmulator, TIRunner, install, truncate
from connectors.dynamics_sl.tables import ItemSite, SOHeader, for_schema
from connectors.models import BackOfficeConnection, SellerAccount
from connectors.sage500.emulator import Sage500Emulator, emulator_engine
from connectors.sage500.emulator import install as install_sage
from connectors.sql import dispose_engines, django_database_url
from connectors.sql_faults import SqlFaultProxy, through, upstream_of
from mappings.models import CarrierMap, ShipLevelMap, SkuLink, StockBuffer

PREFIX = "chaos"
SAGE_CANCELED = 3  # tsoSalesOrder.Status
SL_SCHEMA = "chaos_sl"
SL_COMPANY = "0060"
SAGE_SCHEMA = "chaos_sage"
SAGE_COMPANY = "CHS"
START_STOCK = 1000
# Warehouse ship method (the same code in both back offices) -> Amazon carrier code, and what a tracking
# number of that carrier looks like.
SHIP_METHODS = {"TRACKED24": ("Royal Mail", "Royal Mail Tracked 24"), "NEXT": ("DPD", "DPD Next Day")}
# Amazon's ship-service-level category -> warehouse ship method.
LEVEL_METHOD = {"STANDARD": "TRACKED24", "EXPEDITED": "NEXT", "NEXT_DAY": "NEXT"}
TIERS = ("fast", "medium", "slow")
# Buffers the run sets: per tier, fixed units; one SKU also holds back a percentage.
TIER_BUFFERS = {"fast": 2, "medium": 5, "slow": 0}
PERCENT_SKU, PERCENT = "DEMO-SKU-003", 10


def cleanup():
    """Remove what a chaos run created (a previous run may have been killed half way)."""
    from integration_hub.exchanges.models import Exchange
    from integration_hub.inventory.models import StockLevel, StockPush
    from integration_hub.orders.models import Order
    from integration_hub.shipments.models import Shipment, ShipmentLine
    from integration_hub.sync.models import WorkItem

    accounts = SellerAccount.objects.filter(name__startswith=PREFIX)
    connections = BackOfficeConnection.objects.filter(name__startswith=PREFIX)
    ShipmentLine.objects.filter(shipment__order__account__in=accounts).delete()
    Shipment.objects.filter(order__account__in=accounts).delete()
    Order.objects.filter(account__in=accounts).delete()
    WorkItem.objects.filter(account__in=accounts).delete()
    StockPush.objects.filter(account__in=accounts).delete()
    StockLevel.objects.filter(connection__in=connections).delete()
    Exchange.objects.filter(account__in=accounts).delete()
    Exchange.objects.filter(connection__in=connections).delete()
    SkuLink.objects.filter(account__in=accounts).delete()
    StockBuffer.objects.filter(account__in=accounts).delete()
    accounts.delete()
    connections.delete()


@dataclass
class Seller:
    """One seller account: its Amazon, its back office and what the floor did for it."""

    name: str
    amazon: EmulatorServer
    account: SellerAccount = None
    kind: str = ""
    placed: list = field(default_factory=list)
    cancelled: set = field(default_factory=set)  # cancelled on Amazon by the buyer before dispatch
    packages: dict = field(default_factory=dict)  # order id -> [(tracking, carrier code)]


class World:
    def __init__(self, seed, workdir):
        self.seed = seed
        self.workdir = workdir
        self.tracking = itertools.count(1)
        self.clarus = ClarusEmulator(seed=seed, deterministic=True).start()
        self.sl_engine = create_engine(django_database_url(connection.settings_dict))
        install(self.sl_engine, schema=SL_SCHEMA)
        truncate(self.sl_engine, schema=SL_SCHEMA)
        self.sl = SLEmulator(self.sl_engine, company_id=SL_COMPANY, schema=SL_SCHEMA)
        self.sl_db = for_schema(self.sl_engine, SL_SCHEMA)  # the SL tables resolve to the chaos schema
        folders = {name: workdir / "sl" / name for name in ("drop", "log", "done")}
        self.sl_folders = folders
        self.sl_runner = TIRunner(self.sl_engine, drop_dir=folders["drop"], log_dir=folders["log"],
                                  done_dir=folders["done"], schema=SL_SCHEMA, poll_seconds=0.05).start()
        database = django_database_url(connection.settings_dict)
        self.sage_engine = emulator_engine(database, schema=SAGE_SCHEMA)
        install_sage(self.sage_engine, schema=SAGE_SCHEMA)
        self.sage = Sage500Emulator(self.sage_engine, company_id=SAGE_COMPANY)
        self.sage_proxy = SqlFaultProxy(upstream_of(database)).start()  # the hub reaches Sage through it
        self.sage_late = []  # shipments the floor has a key for but commits after newer ones
        self.sellers = [
            Seller("chaos-clarus", EmulatorServer(seller_id="A2CHAOSCLARUS1", seed=seed).start(), kind="clarus"),
            Seller("chaos-sl", EmulatorServer(seller_id="A2CHAOSDYNSL02", seed=seed + 1).start(), kind="dynamics_sl"),
            Seller("chaos-sage", EmulatorServer(seller_id="A2CHAOSSAGE503", seed=seed + 2).start(), kind="sage500"),
        ]

    def stop(self):
        self.sl_runner.stop()
        for seller in self.sellers:
            seller.amazon.stop()
        self.clarus.stop()
        self.sage_proxy.stop()
        self.sl_engine.dispose()
        self.sage_engine.dispose()
        dispose_engines()

    # ---- setting up ---------------------------------------------------------------------

    def set_up(self, quota_multiplier):
        cleanup()
        self.tenant = self.clarus.add_tenant(f"{PREFIX}-{self.seed}", f"chaos-client-{self.seed}",
                                             "chaos-secret-not-real")
        clarus_connection = BackOfficeConnection.objects.create(
            name=f"{PREFIX}-clarus", kind="clarus", endpoint=self.clarus.url, username=self.tenant.client_id,
            secret=self.tenant.client_secret, options={
                "subdomain": self.tenant.subdomain, "account_id": self.tenant.account_id,
                "warehouse_id": self.tenant.warehouse_id, "ship_method_field": "code", "timeout": 5,
                "retry_backoff": 0})
        url = self.sl_engine.url
        sl_connection = BackOfficeConnection.objects.create(
            name=f"{PREFIX}-sl", kind="dynamics_sl", endpoint=url.set(username=None, password=None).render_as_string(
                hide_password=False), username=url.username or "", secret="chaos-sql-password-not-real",
            options={"company_id": SL_COMPANY, "site_id": "MAIN", "schema": SL_SCHEMA,
                     "ti_drop_dir": str(self.sl_folders["drop"]), "ti_log_dir": str(self.sl_folders["log"]),
                     "ti_wait_seconds": 5, "ti_poll_seconds": 0.05, "dispatch_settle_seconds": 0})
        self.sl.add_customer()
        self.sage.reset()
        self.sage.setup_company(name="Chaos Trading Ltd")
        for code, (_, description) in SHIP_METHODS.items():
            self.sl.add_ship_via(code, description)
            self.sage.add_ship_method(code, description)
        sage_url = through(make_url(django_database_url(connection.settings_dict)), self.sage_proxy)
        sage_connection = BackOfficeConnection.objects.create(
            name=f"{PREFIX}-sage", kind="sage500",
            endpoint=sage_url.set(username=None, password=None).render_as_string(hide_password=False),
            username=sage_url.username or "", secret=sage_url.password or "",
            options={**self.sage.connection_options(), "schema": SAGE_SCHEMA})
        back_offices = (clarus_connection, sl_connection, sage_connection)
        for seller, back_office in zip(self.sellers, back_offices, strict=True):
            amazon = seller.amazon
            amazon.set_faults(quota_multiplier=quota_multiplier)
            amazon.configure(lag_seconds=1)
            seller.account = SellerAccount.objects.create(
                name=seller.name, region="eu", seller_id=amazon.seller_id, marketplace_ids=[amazon.marketplace_id],
                lwa_app_id=amazon.client_id, lwa_client_secret=amazon.client_secret,
                refresh_token=amazon.refresh_token, endpoint=amazon.url, token_url=f"{amazon.url}/auth/o2/token",
                back_office=back_office)
            for n, sku in enumerate(sorted(CATALOGUE)):
                item = f"CH-{sku}"
                tier = TIERS[n % len(TIERS)]
                SkuLink.objects.create(account=seller.account, seller_sku=sku, item_code=item, velocity_tier=tier,
                                       handling_days=2)
                amazon.add_listing(sku, quantity=0, handling_days=2)
                if seller.kind == "clarus":
                    self.tenant.add_item(item, on_hand=START_STOCK)
                elif seller.kind == "sage500":
                    self.sage.add_item(item, on_hand=START_STOCK)
                else:
                    self.sl.add_item(item, START_STOCK)
            for tier, units in TIER_BUFFERS.items():
                StockBuffer.objects.create(account=seller.account, velocity_tier=tier, fixed_units=units)
            StockBuffer.objects.create(account=seller.account, seller_sku=PERCENT_SKU, percent=PERCENT)
        for level, method in LEVEL_METHOD.items():
            ShipLevelMap.objects.update_or_create(ship_service_level=level, marketplace_id="", is_prime=None,
                                                  defaults={"warehouse_ship_method": method})
        for method, (carrier, _) in SHIP_METHODS.items():
            CarrierMap.objects.update_or_create(warehouse_ship_method=method, defaults={"carrier_code": carrier})

    # ---- Amazon's buyers -----------------------------------------------------------------

    def place_order(self, seller, rng):
        skus = sorted(CATALOGUE)
        lines = [{"SellerSKU": sku, "QuantityOrdered": rng.choice((1, 1, 1, 2, 3))}
                 for sku in rng.sample(skus, rng.choice((1, 1, 1, 2)))]
        order_id = seller.amazon.make_order(items=lines, ship_service_level=rng.choice(sorted(SHIP_LEVELS)),
                                            is_prime=rng.random() < 0.3,
                                            purchase_date=seller.amazon.state.now())  # seen after the blind spot
        seller.placed.append(order_id)
        return order_id

    def cancel_one(self, seller, rng):
        """A buyer cancels an order the floor has not shipped (the floor will not ship it from now on)."""
        candidates = [o for o in seller.placed[-50:] if o not in seller.cancelled and o not in seller.packages]
        if candidates:
            order_id = rng.choice(candidates)
            seller.cancelled.add(order_id)
            seller.amazon.cancel_order(order_id)

    # ---- the warehouse floor -------------------------------------------------------------

    def waiting(self, seller):
        if seller.kind == "clarus":
            return self.tenant.waiting_orders()
        return self.sage.waiting_orders() if seller.kind == "sage500" else self.sl.waiting_orders()

    def ship_waiting(self, seller, rng, older_than=0.5):
        """Ship every order waiting on the floor longer than `older_than` seconds; some in two packages.
        In Sage, now and then a shipment takes its key first and commits after later ones (out of key order)."""
        shipped = 0
        for order in self.waiting(seller):
            order_id = order["order_id"]
            if order["waiting"] < older_than or order_id in seller.cancelled or order_id in seller.packages:
                continue
            method = order["ship_method"].split()[0] if seller.kind != "clarus" else order["ship_method"]
            method = method if method in SHIP_METHODS else next(
                (code for code, (_, name) in SHIP_METHODS.items() if name == order["ship_method"]), "TRACKED24")
            packages = self._packages(order["lines"], method, rng)
            if seller.kind == "clarus":
                self.tenant.dispatch(order_id, packages, ship_method=method)
            elif seller.kind == "sage500":
                if not self.sage_late and rng.random() < 0.2:
                    self.sage_late.append((order_id, packages, method, self.sage.reserve_key()))
                else:
                    self.sage.ship(order_id, packages, ship_method=method)
            else:
                self.sl.ship(order_id, packages, ship_via=method)
            seller.packages[order_id] = [(p["tracking_number"], SHIP_METHODS[method][0]) for p in packages]
            shipped += 1
        if seller.kind == "sage500":
            for order_id, packages, method, key in self.sage_late:
                self.sage.ship(order_id, packages, ship_method=method, ship_key=key)
            self.sage_late.clear()
        return shipped

    def _packages(self, lines, method, rng):
        units = [ref for ref, quantity in lines.items() for _ in range(quantity)]
        count = 2 if len(units) > 1 and rng.random() < 0.3 else 1
        packages = [{"tracking_number": self._tracking(method), "lines": {}} for _ in range(count)]
        for n, ref in enumerate(units):
            package = packages[min(n * count // len(units), count - 1)]["lines"]
            package[ref] = package.get(ref, 0) + 1
        return packages

    def _tracking(self, method):
        n = next(self.tracking) + self.seed * 1_000_000
        return f"JX{n:09d}GB" if method == "TRACKED24" else f"{n:014d}"

    def change_stock(self, seller, rng):
        """Goods in or a stock count: one item's stock moves by a few units."""
        item = f"CH-{rng.choice(sorted(CATALOGUE))}"
        delta = rng.choice((-3, -1, 2, 5, 8))
        if seller.kind == "clarus":
            if self.tenant.stock(item)["attributes"]["available"] + delta >= 0:
                self.tenant.adjust_stock(item, delta)
        elif seller.kind == "sage500":
            on_hand, _ = self.sage.stock(item)
            self.sage.add_item(item, on_hand=max(0, on_hand + delta))
        else:
            on_hand, _ = self._sl_stock(item)
            self.sl.add_item(item, max(0, on_hand + delta))

    def _sl_stock(self, item):
        with self.sl_db.connect() as conn:
            row = conn.execute(select(ItemSite.c.QtyOnHand, ItemSite.c.QtyAvail).where(
                ItemSite.c.InvtID == item, ItemSite.c.SiteID == "MAIN")).one()
        return int(row.QtyOnHand), int(row.QtyAvail)

    # ---- the promises --------------------------------------------------------------------

    def check(self):
        """What the emulators say happened, against what should have; returns (figures, [what broke])."""
        from integration_hub.exchanges.models import Exchange
        from integration_hub.sync.choices import WorkState
        from integration_hub.sync.models import WorkItem

        broken = []
        figures = Counter()
        for seller in self.sellers:
            self._check_orders(seller, figures, broken)
            self._check_packages(seller, figures, broken)
            self._check_stock(seller, figures, broken)
            items = WorkItem.objects.filter(account=seller.account)
            # One read each, so the figure and the problems listed cannot disagree (work finishes meanwhile).
            pending = list(items.exclude(state__in=[WorkState.DONE, WorkState.DEAD])
                           .values_list("kind", "state", "last_error"))
            figures["pending"] += len(pending)
            for kind, state, error in pending[:5]:
                broken.append(f"{seller.name}: {kind} left {state}: {error[:120]}")
            # Dead letters of injected permanent faults are retried by the run (as ops would); any left is not.
            dead = list(items.filter(state=WorkState.DEAD).values_list("kind", "key", "last_error"))
            figures["unexplained_dead_letters"] += len(dead)
            for kind, key, error in dead[:5]:
                broken.append(f"{seller.name}: dead letter {kind} {key}: {error[:160]}")
            # SQS long polls are transport (each notification received is an inbound ORDER_CHANGE row).
            seen = sum(1 for _, path, _ in seller.amazon.requests if path != "/")
            logged = Exchange.objects.filter(account=seller.account, system="amazon").count()
            figures["amazon_requests_seen"] += seen
            figures["amazon_exchanges_logged"] += logged
            if logged < seen:
                broken.append(f"{seller.name}: Amazon answered {seen} requests, the exchange log has {logged}")
        return figures, broken

    def _back_office_orders(self, seller, order_id):
        """[(cancelled?)] for each sales order the back office holds for an Amazon order."""
        if seller.kind == "clarus":
            with self.clarus.lock:
                return [order.status == "CANCELLED" for order in self.tenant.tenant.goods_outs_for(order_id)]
        if seller.kind == "sage500":
            return [row["status"] == SAGE_CANCELED for row in self.sage.orders(order_id)]
        with self.sl_db.connect() as conn:
            return [bool(row.Cancelled) for row in conn.execute(select(SOHeader.c.Cancelled).where(
                SOHeader.c.CpnyID == SL_COMPANY, SOHeader.c.CustOrdNbr == order_id))]

    def _check_orders(self, seller, figures, broken):
        for order_id in seller.placed:
            held = self._back_office_orders(seller, order_id)
            figures["orders"] += 1
            figures["sales_orders_created"] += len(held)
            if len(held) > 1:
                figures["duplicate_sales_orders"] += len(held) - 1
                broken.append(f"{seller.name}: {order_id} is in the back office {len(held)} times")
            if order_id in seller.cancelled:
                figures["cancelled"] += 1
                if any(not cancelled for cancelled in held):
                    figures["cancelled_still_live"] += 1
                    broken.append(f"{seller.name}: {order_id} was cancelled on Amazon but is live in the back office")
            elif not held:
                figures["lost"] += 1
                broken.append(f"{seller.name}: {order_id} never reached the back office")

    def _check_packages(self, seller, figures, broken):
        for order_id, packages in seller.packages.items():
            confirmed = Counter((p["trackingNumber"], p["carrierCode"]) for p in seller.amazon.confirmations(order_id))
            for package in packages:
                figures["packages"] += 1
                times = confirmed.get(package, 0)
                if times == 1:
                    figures["confirmed_once"] += 1
                elif times == 0:
                    figures["lost"] += 1
                    broken.append(f"{seller.name}: package {package} of {order_id} never confirmed on Amazon")
                else:
                    figures["duplicate_confirmations"] += times - 1
                    broken.append(f"{seller.name}: package {package} of {order_id} confirmed {times} times")
            stray = set(confirmed) - set(packages)
            if stray:
                figures["duplicate_confirmations"] += len(stray)
                broken.append(f"{seller.name}: {order_id} has confirmations the floor never made: {sorted(stray)}")

    def _check_stock(self, seller, figures, broken):
        for sku in sorted(CATALOGUE):
            item = f"CH-{sku}"
            if seller.kind == "clarus":
                available = self.tenant.stock(item)["attributes"]["available"]
            elif seller.kind == "sage500":
                available = self.sage.stock(item)[1]
            else:
                available = self._sl_stock(item)[1]
            tier = TIERS[sorted(CATALOGUE).index(sku) % len(TIERS)]
            held_back = TIER_BUFFERS[tier] if sku != PERCENT_SKU else math.ceil(available * PERCENT / 100)
            expected = max(0, available - held_back)
            actual = seller.amazon.listing(sku)["quantity"]
            figures["skus_checked"] += 1
            if actual != expected:
                figures["stock_mismatches"] += 1
                broken.append(f"{seller.name}: {sku} shows {actual} on Amazon, the warehouse has {available} "
                              f"available, so {expected} was due")

