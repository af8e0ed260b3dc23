"""Outages that heal: the back office, then Amazon, each down for 20 minutes (time-compressed) while
orders and dispatches keep coming. Nothing may become a dead letter because of the outage,
everything must drain after recovery, and the confirmation backlog must drain most urgent first.

Time is compressed by FACTOR: a 20-minute outage lasts 20 min / FACTOR, and the hub's own clocks
that matter here are scaled the same way for its worker processes (longest wait between tries,
circuit cool-down). The hub runs as deployed: Postgres, Redis, one RQ worker process per lane
(orders, shipments; one each, so the order work is done in is the order the hub chose), the SP-API
and Clarus emulators over loopback HTTP. This process plays the scheduler (imports and dispatch
polls every second) and the warehouse (dispatches what it has, a few seconds after it arrives).

"Drained in ship-by order" counts, among the confirmations made after Amazon came back, the pairs
confirmed in the opposite order of their ship-by (inversions), leaving out the first confirmation,
the probe that found Amazon back.

    DATABASE_URL=... REDIS_URL=... python bench/bench_outage.py [--factor 30] [--orders-per-second 2]
"""

import argparse
import json
import os
import random
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEBUG", "1")

import django

django.setup()

import django_rq
from bench_pipeline import cleanup, run_job, setup, start_workers
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.generator import CATALOGUE
from connectors.clarus.emulator import ClarusEmulator
from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment
from integration_hub.sync.choices import WorkState
from integration_hub.sync.engine import sweep
from integration_hub.sync.models import WorkItem

TARGETS = {"dead_letters_max": 0, "undrained_max": 0, "inversions_max": 0}
OUTAGE_MINUTES = 20


LOG = open(os.environ.get("BENCH_LOG", os.devnull), "a")  # noqa: SIM115 - the workers write to it for the whole run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=30.0)
    parser.add_argument("--orders-per-second", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    outage = OUTAGE_MINUTES * 60 / args.factor
    calm = max(10.0, outage / 3)
    call_command("migrate", verbosity=0)
    cleanup()
    for queue in ("orders", "shipments"):
        django_rq.get_queue(queue).empty()
    amazon = EmulatorServer().start()
    amazon.set_faults(quota_multiplier=args.factor)
    clarus = ClarusEmulator(deterministic=True).start()
    env = dict(os.environ, HUB_WORK_RETRY_CAP_SECONDS=str(max(1, round(300 / args.factor))),
               HUB_CIRCUIT_COOL_DOWN_SECONDS=str(max(1, round(60 / args.factor))))
    workers = []
    skus = sorted(CATALOGUE)
    timeline = [("calm", calm), ("back office down", outage), ("calm", calm), ("Amazon down", outage)]
    try:
        account, _, tenant = setup(amazon, clarus)
        workers = start_workers(["orders", "shipments"], 1, env=env, output=LOG)
        placed, dispatched, arrivals = [], set(), 0.0
        started = time.monotonic()
        marks = {}
        for phase, seconds in timeline:
            marks[phase + str(len(marks))] = time.monotonic() - started
            if phase == "back office down":
                clarus.set_outage(503)
            elif phase == "Amazon down":
                amazon.set_faults(error_rate=1.0)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                arrivals += args.orders_per_second
                while arrivals >= 1:
                    arrivals -= 1
                    # Ship-by 2 to 12 hours away, compressed: the backlog holds every kind of urgency.
                    ship_by = timezone.now() + timedelta(seconds=rng.uniform(2 * 3600, 12 * 3600) / args.factor)
                    placed.append(amazon.make_order(items=[{"SellerSKU": rng.choice(skus), "QuantityOrdered": 1}],
                                                    latest_ship_date=ship_by))
                run_job("orders.import")
                run_job("shipments.poll_dispatches")
                if phase != "back office down":
                    dispatched |= warehouse_ships(tenant, account, dispatched)
                sweep()
                time.sleep(1)
            clarus.set_outage(None)
            amazon.set_faults(error_rate=0.0)
        recovered = timezone.now()  # both systems answer again from here
        backlog_deadline = time.monotonic() + max(120.0, 4 * outage)
        while time.monotonic() < backlog_deadline:
            run_job("orders.import")
            run_job("shipments.poll_dispatches")
            dispatched |= warehouse_ships(tenant, account, dispatched)
            sweep()
            if drained(account, placed, dispatched):
                break
            time.sleep(1)
        drain_seconds = (timezone.now() - recovered).total_seconds()
        dead = WorkItem.objects.filter(account=account, state=WorkState.DEAD).count()
        waits = sum(WorkItem.objects.filter(account=account).values_list("waits", flat=True))
        sent = Order.objects.filter(account=account, hub_state=HubState.SENT).count()
        # The backlog: packages recorded before Amazon came back (later dispatches join a queue already
        # draining). Work already late goes after work that can still be on time, by design: judge the
        # on-time ones.
        confirmed = list(Shipment.objects.filter(order__account=account, created_at__lt=recovered,
                                                 confirmed_at__gte=recovered,
                                                 confirmed_at__lte=F("order__latest_ship_date"))
                         .order_by("confirmed_at").values_list("order__latest_ship_date", flat=True))
        unconfirmed = Shipment.objects.filter(order__account=account).exclude(
            confirmation_state=ConfirmationState.CONFIRMED).count()
        inversions = count_inversions(confirmed[1:])
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        amazon.stop()
        clarus.stop()
        cleanup()
    undrained = (len(placed) - sent) + unconfirmed
    print(f"{len(placed)} orders over {sum(s for _, s in timeline):.0f}s (x{args.factor:g}: back office, then Amazon,"
          f" down {OUTAGE_MINUTES} min each = {outage:.0f}s); {len(dispatched)} dispatched")
    print(f"  after recovery: drained in {drain_seconds:.0f}s; sent {sent}/{len(placed)}, unconfirmed {unconfirmed}, "
          f"dead letters {dead}, waits (tries that cost no attempt) {waits}")
    print(f"  backlog confirmed after Amazon came back: {len(confirmed)}, pairs out of ship-by order: {inversions}")
    result = {"bench": "outage", "factor": args.factor, "outage_seconds": round(outage, 1), "orders": len(placed),
              "dispatched": len(dispatched), "dead_letters": dead, "undrained": undrained,
              "drain_seconds": round(drain_seconds, 1), "backlog_confirmed": len(confirmed),
              "inversions": inversions, "waits": waits, "targets": TARGETS,
              "ok": dead <= TARGETS["dead_letters_max"] and undrained <= TARGETS["undrained_max"]
              and inversions <= TARGETS["inversions_max"]}
    print(json.dumps(result))
    return 0


def warehouse_ships(tenant, account, already):
    """Dispatch every order the warehouse has had for a few seconds; returns the order ids shipped."""
    ready = set(Order.objects.filter(account=account, hub_state=HubState.SENT,
                                     updated_at__lt=timezone.now() - timedelta(seconds=2))
                .values_list("amazon_order_id", flat=True)) - already
    for order_id in ready:
        tenant.dispatch(order_id)
    return ready


def drained(account, placed, dispatched):
    sent = Order.objects.filter(account=account, hub_state=HubState.SENT).count()
    if sent < len(placed) or len(dispatched) < len(placed):
        return False
    return not Shipment.objects.filter(order__account=account).exclude(
        confirmation_state=ConfirmationState.CONFIRMED).exists()


def count_inversions(values):
    """Pairs (i < j) with values[i] > values[j]; O(n log n) by merge sort."""
    def sort(items):
        if len(items) < 2:
            return items, 0
        middle = len(items) // 2
        left, a = sort(items[:middle])
        right, b = sort(items[middle:])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                count += len(left) - i
                j += 1
        return merged + left[i:] + right[j:], count

    return sort(list(values))[1]


if __name__ == "__main__":
    sys.exit(main())
