"""Intake at Amazon's quotas: orders arrive faster than searchOrders alone can page, then slow down.
How many does the hub ingest against the most the quotas allow (search pages of 100 + getOrder for
the orders ORDER_CHANGE notifications name), how far behind does it fall, and does the lag come back?

Time is compressed by FACTOR: the quota rates (not the bursts, which are counts) of the emulator and of
the hub's own buckets, Amazon's two-minute blind spot, and the hub's intake clocks (window overlap,
gaps between windows) are scaled by it. By default the arrival phase is one real hour of a Prime Day
peak at 4,320 orders an hour: more than searchOrders alone can page in that hour (20 pages of burst
and 20 refilled, 100 orders each), so the hub must spend every search request on a full page and read
the rest by getOrder as ORDER_CHANGE notifications name them. The hub runs as deployed: Postgres,
Redis, two RQ workers on the orders lane, the SQS poller, the SP-API emulator over HTTP. This
process plays the scheduler (orders.import and the sweeper every second; intake spends only what
the bucket holds).

The quota-limited maximum over the arrival phase (computed at the end): search pages, 100 orders per
request the bucket allows and only orders older than Amazon's blind spot, reach some frontier;
getOrder (for notified orders) adds the orders beyond it, but an order can be read only once it has
arrived, so it counts getOrder's burst plus its rate from the first such arrival on. An order read
by both adds nothing. The plain sum of both quotas (capped at the orders that arrived) is printed
too; it ignores the blind spot and when orders arrive, so no client reaches it. Lags are reported in
real minutes.

    DATABASE_URL=... REDIS_URL=... python bench/bench_intake.py [--factor 30] [--rate 36] [--seconds 120] [--trace]
"""

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
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
from django.conf import settings
from django.core.management import call_command

from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.generator import CATALOGUE
from connectors.amazon.emulator.quotas import USAGE_PLANS
from connectors.amazon.quotas import RateLimiter
from connectors.clarus.emulator import ClarusEmulator
from integration_hub.exchanges.models import Exchange
from integration_hub.orders.intake import Walk, intake_lag
from integration_hub.orders.models import Order
from integration_hub.sync.engine import sweep
from mappings.models import ShipLevelMap

TARGETS = {"share_of_quota_max_min": 0.95, "lag_returns_to_floor": True}
PAGE = 100  # orders per searchOrders page
LOG = open(os.environ.get("BENCH_LOG", os.devnull), "a")  # noqa: SIM115 - the workers write to it for the whole run


def count_calls(amazon):
    """SP-API requests the emulator has answered so far: {(operation, status): count}."""
    calls = {}
    for _, path, status in list(amazon.requests):
        kind = "searchOrders" if path.rstrip("/").endswith("/orders") else (
            "getOrder" if "/orders/2026-01-01/orders/" in path else "other")
        calls[(kind, status)] = calls.get((kind, status), 0) + 1
    return calls


def trace(amazon, account, started, arrived, lag):
    calls = count_calls(amazon)
    searches = sum(n for (kind, _), n in calls.items() if kind == "searchOrders")
    reads = sum(n for (kind, _), n in calls.items() if kind == "getOrder")
    tokens = RateLimiter(account.pk).tokens_left("searchOrders")
    ingested = Order.objects.filter(account=account).count()
    notices = Exchange.objects.filter(operation="ORDER_CHANGE").count()  # SQS notifications the hub has handled
    walk = Walk.load(f"orders:{account.pk}")
    window = (f" window=[{walk.after:%H:%M:%S}..{walk.before and f'{walk.before:%H:%M:%S}'}] seen={walk.seen}"
              if walk.after else f" since={walk.since and f'{walk.since:%H:%M:%S}'} rate={walk.rate}")
    print(f"t={time.monotonic() - started:5.1f}s arrived={arrived} notified={notices} ingested={ingested}"
          f" searchOrders={searches} getOrder={reads} hub_search_tokens={tokens:.1f} lag={lag:.1f}s{window}",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=30)
    parser.add_argument("--rate", type=float, default=36.0, help="orders arriving per (compressed) second")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the arrival phase")
    parser.add_argument("--drain", type=float, default=240.0, help="longest wait for the lag to come back")
    parser.add_argument("--trace", action="store_true", help="a line a second on stderr: what has arrived and been "
                                                            "read, requests made, the hub's searchOrders tokens, lag")
    args = parser.parse_args()
    factor = args.factor
    settings.AMAZON_QUOTA_TIME_FACTOR = factor  # this process reads the hub's buckets too (--trace)
    blind_spot = max(1, round(120 / factor))
    call_command("migrate", verbosity=0)
    cleanup()
    django_rq.get_queue("orders").empty()
    amazon = EmulatorServer().start()
    amazon.set_faults(quota_time_factor=factor)
    amazon.configure(lag_seconds=blind_spot)
    clarus = ClarusEmulator(deterministic=True).start()
    env = dict(os.environ, HUB_AMAZON_QUOTA_TIME_FACTOR=str(factor),
               HUB_INTAKE_OVERLAP_SECONDS=str(max(1, round(600 / factor))),
               HUB_INTAKE_MAX_POLL_GAP_SECONDS=str(max(1, round(300 / factor))),
               HUB_INTAKE_MIN_POLL_GAP_SECONDS=str(max(1, round(30 / factor))),
               HUB_WORK_RETRY_CAP_SECONDS=str(max(1, round(300 / factor))),
               HUB_WORK_HANDOVER_SECONDS=str(max(1, round(10 / factor))),
               HUB_CIRCUIT_COOL_DOWN_SECONDS=str(max(1, round(60 / factor))),
               HUB_AMAZON_SQS_QUEUE_URL="", HUB_AMAZON_SQS_ENDPOINT=amazon.url,
               AWS_ACCESS_KEY_ID="emulator", AWS_SECRET_ACCESS_KEY="emulator")  # noqa: S105 - not a secret
    processes = []
    skus = sorted(CATALOGUE)
    try:
        account, _, _ = setup(amazon, clarus)
        ShipLevelMap.objects.all().delete()  # intake only: orders are held, not sent on
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        processes = [subprocess.Popen(manage + ["amazon_sqs_poller", "--queue-url", amazon.sqs_queue_url],
                                      env=env, stdout=LOG, stderr=LOG, start_new_session=True)]
        processes += start_workers(["orders"], 2, env=env, output=LOG)  # the clock starts once they listen
        arrived, owed, lags = 0, 0.0, []
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            owed += args.rate
            now = amazon.state.now()
            while owed >= 1:  # placed over the last second, evenly: seen after the blind spot
                owed -= 1
                placed = now - dt.timedelta(seconds=owed / args.rate)
                amazon.make_order(items=[{"SellerSKU": skus[arrived % len(skus)], "QuantityOrdered": 1}],
                                  purchase_date=placed)
                arrived += 1
            run_job("orders.import")
            sweep()  # the scheduler's sweeper: keeps the lane prompted
            lags.append(intake_lag(account) or 0.0)
            if args.trace:
                trace(amazon, account, started, arrived, lags[-1])
            time.sleep(1)
        phase = time.monotonic() - started
        ingested = Order.objects.filter(account=account).count()
        lag_at_end_of_arrivals = intake_lag(account) or 0.0
        floor = blind_spot + 5  # caught up: the search window ends at Amazon's blind spot
        drain_started = time.monotonic()
        final_lag = lag_at_end_of_arrivals
        while time.monotonic() - drain_started < args.drain:
            run_job("orders.import")
            sweep()
            final_lag = intake_lag(account) or 0.0
            lags.append(final_lag)
            if args.trace:
                trace(amazon, account, started, arrived, final_lag)
            if final_lag <= floor and Order.objects.filter(account=account).count() >= arrived:
                break
            time.sleep(1)
        caught_up = time.monotonic() - drain_started
        total = Order.objects.filter(account=account).count()
        calls = count_calls(amazon)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        amazon.stop()
        clarus.stop()
        cleanup()
    search_rate, search_burst = USAGE_PLANS["searchOrders"]
    get_rate, get_burst = USAGE_PLANS["getOrder2026"]
    # The most any client could have read by the end of the arrivals (see the docstring), at the rate orders
    # really arrived (each second of the loop above lasts a little longer than one).
    arrival_rate = arrived / phase
    visible = min(arrived, round(arrival_rate * max(0.0, phase - blind_spot)))
    frontier = min(visible, PAGE * (search_burst + search_rate * factor * phase))
    beyond_from = frontier / arrival_rate  # when the first order past the frontier arrived
    quota_max = frontier + min(arrived - frontier, get_burst + get_rate * factor * max(0.0, phase - beyond_from))
    quota_sum = min(arrived, frontier + get_burst + get_rate * factor * phase)
    limit = min(arrived, quota_max)
    share = ingested / limit
    real_hour = 3600.0
    print(f"x{factor:g}: {arrived} orders arrived in {phase:.0f}s ({args.rate:g}/s, {args.rate / factor * 3600:.0f}"
          f" an hour for real); the quotas allow {quota_max:.0f} in that time ({quota_sum:.0f} by the plain sum of"
          f" search pages and getOrder calls)")
    print(f"  ingested while they arrived: {ingested} = {share:.1%} of the most possible "
          f"({ingested / phase * real_hour / factor:.0f} per real hour)")
    print(f"  intake lag: max {max(lags) * factor / 60:.1f} real minutes, {lag_at_end_of_arrivals * factor / 60:.1f} "
          f"when arrivals stopped, {final_lag * factor / 60:.1f} after {caught_up:.0f}s (floor: the 2-minute blind "
          f"spot); {total}/{arrived} ingested in the end")
    print("  SP-API calls (operation, status): " + ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in sorted(calls.items())))
    back = final_lag <= floor and total >= arrived
    result = {"bench": "intake", "factor": factor, "arrived": arrived, "ingested_during_arrivals": ingested,
              "quota_max": round(quota_max), "share_of_quota_max": round(share, 3), "quota_sum": round(quota_sum),
              "share_of_quota_sum": round(ingested / quota_sum, 3),
              "orders_per_real_hour": round(ingested / phase * 3600 / factor),
              "max_lag_real_minutes": round(max(lags) * factor / 60, 1),
              "final_lag_real_minutes": round(final_lag * factor / 60, 1), "lag_back_to_floor": back,
              "targets": TARGETS, "ok": share >= TARGETS["share_of_quota_max_min"] and back}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
