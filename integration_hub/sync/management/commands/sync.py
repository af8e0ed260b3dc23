"""One pass of a flow in the foreground, for operators: `python manage.py sync orders|shipments|stock`.

    sync orders    [--account A] [--once]   read Amazon's changed orders, then send/cancel what is due
    sync shipments [--account A]            read the back office's dispatches, then confirm what is due
    sync stock     [--account A]            measure every tier and push what changed

Work runs here, through the same engine as the workers (claims, retries, dead letters), most urgent
first; what fails transiently is left waiting for the workers. A progress bar on a terminal, plain
lines otherwise; the last line is one JSON object of counts. Exit status 1 when anything failed.
Without --once, `sync orders` waits for searchOrders' quota until the open search window is read to
its end; with --once it reads what the quota allows now.
"""

import json
import sys
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from connectors.base import ConnectorError
from connectors.models import BackOfficeConnection, SellerAccount
from integration_hub.inventory import services as stock
from integration_hub.inventory.models import StockPush
from integration_hub.orders import intake, windows
from integration_hub.shipments import recording as shipments
from integration_hub.sync.choices import LANES, WorkKind, WorkState
from integration_hub.sync.engine import claim_next, run_claimed
from integration_hub.sync.models import WorkItem
from mappings.choices import VelocityTier

QUOTA_WAIT_SECONDS = 5


class Progress:
    """A one-line bar on a terminal; a plain line per step otherwise (logs, cron mail)."""

    def __init__(self, out, label, total=None):
        self.out, self.label, self.total, self.done = out, label, total, 0
        self.tty = hasattr(out, "isatty") and out.isatty()

    def step(self, note="", n=1):
        self.done += n
        if self.tty:
            if self.total:
                filled = int(30 * min(self.done, self.total) / self.total)
                bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
            else:
                bar = f"{self.done}"
            self.out.write(f"\r{self.label} {bar} {note[:40]:<40}")
            self.out.flush()
        elif note:
            self.out.write(f"{self.label}: {self.done}{f'/{self.total}' if self.total else ''} {note}\n")

    def end(self):
        if self.tty:
            self.out.write("\n")


class Command(BaseCommand):
    help = "Run one pass of a flow (orders, shipments or stock) in the foreground and print its counts."

    def add_arguments(self, parser):
        parser.add_argument("flow", choices=["orders", "shipments", "stock"])
        parser.add_argument("--account", help="Seller account name or id (default: every active account).")
        parser.add_argument("--once", action="store_true",
                            help="Only what can be done now: do not wait for Amazon's quota.")

    def handle(self, *args, flow, account, once, **options):
        accounts = SellerAccount.objects.filter(active=True).select_related("back_office")
        if account:
            accounts = accounts.filter(Q(name=account) | Q(pk=int(account)) if account.isdigit() else Q(name=account))
            if not accounts:
                raise CommandError(f"no active seller account {account!r}")
        accounts = list(accounts)
        started = time.monotonic()
        counts = getattr(self, f"sync_{flow}")(accounts, once)
        counts = {"flow": flow, **counts, "seconds": round(time.monotonic() - started, 1)}
        self.stdout.write(json.dumps(counts))
        failed = counts.get("errors", 0) + counts.get("failed", 0) + counts.get("rejected", 0)
        if failed:
            sys.exit(1)

    # ---- orders ----------------------------------------------------------------------------

    def sync_orders(self, accounts, once):
        stats = Counter({name: 0 for name in ("fetched", "created", "held", "duplicates", "cancelled", "errors")})
        bar = Progress(self.stderr, "orders from Amazon")
        for account in accounts:
            while True:
                try:
                    read = intake.import_recent(account, stats=stats)
                except ConnectorError as exc:
                    stats["errors"] += 1
                    bar.step(f"{account}: {exc.message}")
                    break
                bar.step(f"{account}: {stats['fetched']} read", n=read)
                walk = windows.Walk.load(f"orders:{account.pk}")
                if once or walk.after is None:
                    break
                time.sleep(QUOTA_WAIT_SECONDS)  # the window is open and the bucket is empty: wait for it
        bar.end()
        outcomes = self._run_lane("orders", accounts, Counter())
        stats["held"] += outcomes["held"]
        stats["cancelled"] += sum(n for outcome, n in outcomes.items() if outcome.startswith("cancelled"))
        stats["errors"] += outcomes["errors"]
        return dict(stats)

    # ---- shipments -------------------------------------------------------------------------

    def sync_shipments(self, accounts, once):
        stats = Counter({name: 0 for name in ("collected", "confirmed", "waiting", "failed", "unmapped")})
        connections = BackOfficeConnection.objects.filter(
            active=True, pk__in={a.back_office_id for a in accounts if a.back_office_id})
        bar = Progress(self.stderr, "dispatches", total=len(connections))
        for connection in connections:
            try:
                stats["collected"] += shipments.poll_dispatches(connection)
            except ConnectorError as exc:
                stats["failed"] += 1
                bar.step(f"{connection}: {exc.message}")
                continue
            bar.step(str(connection))
        bar.end()
        outcomes = self._run_lane("shipments", accounts, Counter())
        stats["confirmed"] = outcomes["confirmed"]
        stats["waiting"] = outcomes["waiting"]
        stats["failed"] += outcomes["dead"] + outcomes["errors"]
        stats["unmapped"] = WorkItem.objects.filter(
            kind=WorkKind.CONFIRM_SHIPMENT, state=WorkState.DEAD, account__in=accounts,
            last_error__startswith="no carrier map").count()
        return dict(stats)

    # ---- stock -----------------------------------------------------------------------------

    def sync_stock(self, accounts, once):
        stats = Counter({name: 0 for name in ("skus_checked", "pushed", "unchanged", "rejected")})
        tiers = [(account, tier) for account in accounts if account.back_office_id for tier in VelocityTier.values]
        bar = Progress(self.stderr, "stock", total=len(tiers))
        for account, tier in tiers:
            try:
                stock.measure(account, tier)
                checked = len(stock.wanted_quantities(account, tier))
                updates = stock.changes(account, tier)
                if updates:
                    stock.push(account, tier)
            except ConnectorError as exc:
                stats["rejected"] += 1
                bar.step(f"{account} {tier}: {exc.message}")
                continue
            skus = [update.sku for update in updates]
            rejected = StockPush.objects.filter(account=account, sku__in=skus).exclude(last_error="").count()
            stats["skus_checked"] += checked
            stats["pushed"] += len(skus) - rejected
            stats["rejected"] += rejected
            stats["unchanged"] += checked - len(skus)
            bar.step(f"{account} {tier}: {len(skus)} changed")
        bar.end()
        return dict(stats)

    # ---- the lane's due work -----------------------------------------------------------------

    def _run_lane(self, lane, accounts, outcomes):
        """Run the lane's due work of these accounts here, most urgent first; count the outcomes."""
        due = WorkItem.objects.due().filter(kind__in=LANES[lane], account__in=accounts).count()
        bar = Progress(self.stderr, f"{lane} work", total=due)
        while (item := claim_next(lane, accounts=accounts)) is not None:
            outcome = run_claimed(item)
            state = WorkItem.objects.filter(pk=item.pk).values_list("state", flat=True).first()
            if state == WorkState.DEAD:
                outcomes["dead"] += 1
            elif state == WorkState.RETRYING:
                outcomes["waiting"] += 1
            elif outcome.startswith("errored"):
                outcomes["errors"] += 1
            else:
                outcomes[outcome.split(" (")[0]] += 1
            bar.step(f"{item}: {outcome}")
        bar.end()
        if lane == "orders":
            outcomes["errors"] += outcomes.pop("dead", 0)
        return outcomes
