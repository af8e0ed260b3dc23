"""How much of Amazon's quota the connector uses, and how often it still gets a 429.

Four worker processes (two confirming shipments, two reading orders) run through AmazonConnector
against the SP-API emulator (in-process, on a free port) for a fixed time, at the default usage
plans and at plans ten times higher. Utilisation = requests Amazon accepted / what its token
bucket allowed in that time (burst + rate x elapsed). Needs Postgres (DATABASE_URL) for the
exchange log and Redis (REDIS_URL) for the shared buckets; removes what it creates.

    DATABASE_URL=postgres://... REDIS_URL=redis://.../N python bench/bench_amazon_quota.py [--seconds 60]

Reference: the library used as its docs suggest (`throttle_retry` around each call) measured 88%
utilisation with 24% 429s from 4 threads at the default confirmShipment quota, 32% at 10x.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEBUG", "1")

import django

django.setup()

import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.quotas import USAGE_PLANS as EMULATED_PLANS
from connectors.amazon.records import PackageConfirmation
from connectors.models import SellerAccount
from integration_hub.exchanges.models import Exchange

TARGETS = {"utilisation_min": 0.95, "throttled_share_max": 0.01}
# operation -> (emulator quota key, how to recognise its path)
OPERATIONS = {
    "confirmShipment": ("confirmShipment", lambda path: path.endswith("/shipmentConfirmation")),
    "getOrder": ("getOrder2026", lambda path: path.startswith("/orders/2026-01-01/orders/")),
}


def make_account(emulator, name):
    # A seller id of its own, so the bench never collides with (or cleans up) a real or demo account
    # in the same database; the emulator knows its seller by the LWA token, not by this id.
    return SellerAccount.objects.create(
        name=name, region="eu", seller_id=name[-40:], marketplace_ids=[emulator.marketplace_id],
        lwa_app_id=emulator.client_id, lwa_client_secret=emulator.client_secret,
        refresh_token=emulator.refresh_token, endpoint=emulator.url, token_url=f"{emulator.url}/auth/o2/token",
    )


def worker(kind, account_pk, order_id, item_id, deadline, results):
    """One worker process: confirm one unit at a time, or read the order, until the deadline."""
    connection.close()  # the parent's connection must not be shared across fork
    account = SellerAccount.objects.get(pk=account_pk)
    amazon = AmazonConnector(account)
    error, ref = "", 1
    try:
        while time.monotonic() < deadline:
            if kind == "confirmShipment":
                amazon.confirm_shipment(order_id, account.marketplace_ids[0], PackageConfirmation(
                    package_reference_id=ref, carrier_code="Royal Mail", carrier_name="",
                    shipping_method="Tracked 48", tracking_number=f"BENCH{ref:08d}GB", ship_date=timezone.now(),
                    items=[(item_id, 1)]))
                ref += 1
            else:
                amazon.get_order(order_id)
    except Exception as exc:  # noqa: BLE001 - reported, and the level fails
        error = f"{kind}: {exc}"
    finally:
        amazon.close()
        connection.close()
    results.put((kind, time.monotonic(), error))


def run_level(emulator, multiplier, seconds):
    emulator.reset()
    emulator.set_faults(quota_multiplier=multiplier)
    account = make_account(emulator, f"bench-quota-x{multiplier:g}-{os.getpid()}")
    try:
        return measure(emulator, account, multiplier, seconds)
    finally:
        cleanup(account)


def measure(emulator, account, multiplier, seconds):
    orders = [emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 5000}]) for _ in range(2)]
    items = [emulator.order(order_id)["OrderItems"][0]["OrderItemId"] for order_id in orders]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connection.close()
    start = time.monotonic()
    deadline = start + seconds
    processes = [
        context.Process(target=worker, args=(kind, account.pk, orders[n], items[n], deadline, results))
        for kind in OPERATIONS for n in range(2)
    ]
    for process in processes:
        process.start()
    finished = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    figures = {"multiplier": multiplier, "errors": [error for _, _, error in finished if error]}
    accepted_all = allowed_all = requests_all = throttled_all = 0
    for operation, (quota_key, matches) in OPERATIONS.items():
        # The bucket's allowance runs until the last of this operation's workers stopped.
        elapsed = max(moment for kind, moment, _ in finished if kind == operation) - start
        statuses = [status for _, path, status in emulator.requests if matches(path)]
        rate, burst = EMULATED_PLANS[quota_key]
        allowed = max(1, round(burst * multiplier)) + rate * multiplier * elapsed
        accepted = sum(1 for s in statuses if 200 <= s < 300)
        throttled = statuses.count(429)
        figures[operation] = {
            "seconds": round(elapsed, 1), "requests": len(statuses), "accepted": accepted, "throttled": throttled,
            "allowed": round(allowed, 1), "utilisation": round(accepted / allowed, 4),
            "throttled_share": round(throttled / len(statuses), 4) if statuses else 0.0,
        }
        accepted_all, allowed_all = accepted_all + accepted, allowed_all + allowed
        requests_all, throttled_all = requests_all + len(statuses), throttled_all + throttled
    figures["utilisation"] = round(accepted_all / allowed_all, 4)
    figures["throttled_share"] = round(throttled_all / requests_all, 4) if requests_all else 0.0
    figures["ok"] = (not figures["errors"] and figures["throttled_share"] <= TARGETS["throttled_share_max"]
                     and all(figures[op]["utilisation"] >= TARGETS["utilisation_min"] for op in OPERATIONS))
    return figures


def cleanup(account):
    store = redis.Redis.from_url(settings.REDIS_URL)
    for key in store.scan_iter(f"amazon:*:{account.pk}:*"):
        store.delete(key)
    Exchange.objects.filter(account=account).delete()
    account.delete()  # its CircuitState rows go with it


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="run time per quota level")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    emulator = EmulatorServer().start()
    levels = []
    try:
        for multiplier in (1, 10):
            figures = run_level(emulator, multiplier, args.seconds)
            levels.append(figures)
            print(f"quota x{multiplier:g}:")
            for operation in OPERATIONS:
                f = figures[operation]
                print(f"  {operation:16} {f['seconds']:5}s: accepted {f['accepted']:5} of {f['allowed']:7} allowed "
                      f"-> utilisation {f['utilisation']:.1%}; 429s {f['throttled']} of {f['requests']} "
                      f"({f['throttled_share']:.2%})")
            print(f"  overall utilisation {figures['utilisation']:.1%}, 429 share {figures['throttled_share']:.2%}"
                  + (f", errors: {figures['errors']}" if figures["errors"] else ""))
    finally:
        emulator.stop()
    result = {"bench": "amazon_quota", "workers": 4, "levels": levels, "targets": TARGETS,
              "ok": all(level["ok"] for level in levels)}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
