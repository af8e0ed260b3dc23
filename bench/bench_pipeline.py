"""The whole pipeline at full speed: orders imported from Amazon and sent to the back office, then
dispatched and confirmed on Amazon, through the hub as deployed (Postgres, Redis, real RQ worker
processes per lane, the SP-API and Clarus emulators over loopback HTTP with Amazon's quotas lifted).

Reported: orders imported and sent per second, confirmations accepted per second, the CPU the hub's
worker processes spent per order (their own and their work-horses' user + system time; the
emulators run in this process and are not counted), and SQL statements per order (counted on a
sample run through the same code in this process, every query of import, send, dispatch record and
confirmation).

    DATABASE_URL=... REDIS_URL=... python bench/bench_pipeline.py [--orders 1000] [--workers 2]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEBUG", "1")
# A new search window may open every second: the sample run's import follows the timed run within seconds.
os.environ.setdefault("HUB_INTAKE_MIN_POLL_GAP_SECONDS", "1")

import django

django.setup()

import django_rq
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rq import SimpleWorker, Worker

from connectors.amazon.emulator import EmulatorServer
from connectors.amazon.emulator.generator import CATALOGUE
from connectors.clarus.emulator import ClarusEmulator
from connectors.models import BackOfficeConnection, SellerAccount
from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment
from integration_hub.sync.engine import sweep
from integration_hub.sync.scheduler import REPEATING, run_schedule
from mappings.models import CarrierMap, ShipLevelMap, SkuLink

TARGETS = {"orders_per_second_min": 200, "confirmations_per_second_min": 200, "cpu_ms_per_order_max": 5,
           "sql_per_order_max": 15}
NAME = "bench-pipeline"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User + system CPU of every process in the workers' sessions: the workers, their work-horses still
    running (RQ forks one per job) and those that have ended (counted in their parent's cutime/cstime)."""
    sessions = set(pids)  # each worker leads its own session (start_new_session)
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[3]) in sessions:  # field 6 of stat: the session id
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def setup(amazon, clarus):
    tenant = clarus.add_tenant(f"{NAME}-{os.getpid()}", f"client-{os.getpid()}", "bench-secret-not-real")
    connection_row = BackOfficeConnection.objects.create(
        name=f"{NAME}-{os.getpid()}", kind="clarus", endpoint=clarus.url, username=tenant.client_id,
        secret=tenant.client_secret, options={"subdomain": tenant.subdomain, "account_id": tenant.account_id,
                                              "warehouse_id": tenant.warehouse_id, "timeout": 10,
                                              "retry_backoff": 0})
    account = SellerAccount.objects.create(
        name=f"{NAME}-{os.getpid()}", region="eu", seller_id=amazon.seller_id,
        marketplace_ids=[amazon.marketplace_id], lwa_app_id=amazon.client_id,
        lwa_client_secret=amazon.client_secret, refresh_token=amazon.refresh_token, endpoint=amazon.url,
        token_url=f"{amazon.url}/auth/o2/token", back_office=connection_row)
    for sku in CATALOGUE:
        item_code = f"ITEM-{sku}"
        tenant.add_item(item_code, on_hand=1_000_000)
        SkuLink.objects.create(account=account, seller_sku=sku, item_code=item_code)
    for level in ("Standard", "Expedited", "NextDay", "SecondDay", "Scheduled", "Priority", "SameDay",
                  "FreeEconomy"):
        ShipLevelMap.objects.get_or_create(ship_service_level=level.upper(), marketplace_id="",
                                           defaults={"warehouse_ship_method": tenant.ship_method})
    CarrierMap.objects.get_or_create(warehouse_ship_method=tenant.ship_method,
                                     defaults={"carrier_code": "Royal Mail"})
    return account, connection_row, tenant


def cleanup(name=NAME):
    """Remove what a run named `name` created (the bench may share a database with a hub, or follow a
    broken run)."""
    from integration_hub.shipments.models import ShipmentLine
    from integration_hub.sync.models import WorkItem

    accounts = SellerAccount.objects.filter(name__startswith=name)
    ShipmentLine.objects.filter(shipment__order__account__in=accounts).delete()
    Shipment.objects.filter(order__account__in=accounts).delete()
    Order.objects.filter(account__in=accounts).delete()
    WorkItem.objects.filter(account__in=accounts).delete()
    SkuLink.objects.filter(account__in=accounts).delete()
    accounts.delete()
    BackOfficeConnection.objects.filter(name__startswith=name).delete()


def place_orders(amazon, count):
    skus = sorted(CATALOGUE)
    return [amazon.make_order(items=[{"SellerSKU": skus[n % len(skus)], "QuantityOrdered": 1 + n % 2}])
            for n in range(count)]


def as_deployed(env):
    """`env` for a worker run as in production: DEBUG off (no query log, no SQL composed twice for it),
    with the keys this process encrypts with, given explicitly as production requires."""
    return dict(env, HUB_DEBUG="0", HUB_SECRET_KEY=settings.SECRET_KEY,
                HUB_CREDENTIALS_KEYS=",".join(settings.CREDENTIALS_KEYS),
                HUB_BUYER_DATA_KEYS=",".join(settings.BUYER_DATA_KEYS))


def start_workers(lanes, count, env=None, output=subprocess.DEVNULL):
    """`count` worker processes per lane, run as deployed (as_deployed), returned once every one has
    registered with RQ (a process still starting Django spends a second of CPU that is not the hub's
    work per order)."""
    env = as_deployed(os.environ if env is None else env)
    workers = [subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "rqworker", lane],
                                env=env, stdout=output, stderr=output,
                                start_new_session=True) for lane in lanes for _ in range(count)]
    pids = {worker.pid for worker in workers}
    started = time.monotonic()
    while {w.pid for w in Worker.all(connection=django_rq.get_connection())} < pids:
        if time.monotonic() - started > 120 or any(worker.poll() is not None for worker in workers):
            stop_workers(workers)
            raise SystemExit("the RQ workers did not start")
        time.sleep(0.1)
    time.sleep(0.5)  # past the registration: each worker cleans its queues' registries, then listens
    return workers


def stop_workers(workers):
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def run_job(name):
    _, _, queue = REPEATING[name]
    django_rq.get_queue(queue).enqueue(run_schedule, name)


def wait_for(done, what, limit, every=None):
    """Poll `done()` every tenth of a second until true (the phases last seconds: a coarser poll would
    measure itself); `every` (name of a repeating job) is queued again each second as the scheduler
    would (its own interval is minutes, which would measure the schedule, not the hub)."""
    started = time.monotonic()
    prompted = None
    while not done():
        now = time.monotonic()
        if now - started > limit:
            raise SystemExit(f"{what}: not done after {limit}s")
        if prompted is None or now - prompted >= 1:
            prompted = now
            if every:
                run_job(every)
            sweep()  # the scheduler's sweeper: keeps every lane prompted (a queue emptied by hand included)
        time.sleep(0.1)
    return time.monotonic() - started


def sent(account):
    return Order.objects.filter(account=account, hub_state=HubState.SENT).count()


def confirmed(account):
    return Shipment.objects.filter(order__account=account, confirmation_state=ConfirmationState.CONFIRMED).count()


def dispatch_all(tenant, order_ids):
    for order_id in order_ids:
        tenant.dispatch(order_id)


def sample_queries(amazon, tenant, account, count):
    """Every SQL statement and the CPU of this thread for `count` orders run through the pipeline here."""
    order_ids = place_orders(amazon, count)
    worker = django_rq.get_worker("orders", "shipments", worker_class=SimpleWorker)
    started = time.thread_time()
    with CaptureQueriesContext(connection) as captured:
        run_job("orders.import")
        worker.work(burst=True, with_scheduler=False)
        dispatch_all(tenant, order_ids)
        run_job("shipments.poll_dispatches")
        worker.work(burst=True, with_scheduler=False)
    cpu = time.thread_time() - started
    done = Shipment.objects.filter(order__amazon_order_id__in=order_ids,
                                   confirmation_state=ConfirmationState.CONFIRMED).count()
    # A query string may hold several statements (shipments.services locks and recomputes in one): each counts.
    statements = sum(query["sql"].count(";\n") + 1 for query in captured.captured_queries)
    return statements, cpu, done


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes per lane")
    parser.add_argument("--sample", type=int, default=100)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    cleanup()
    for queue in ("orders", "shipments"):
        django_rq.get_queue(queue).empty()
    amazon = EmulatorServer().start()
    amazon.set_faults(quota_multiplier=1000)
    clarus = ClarusEmulator(deterministic=True).start()
    workers = []
    try:
        account, _, tenant = setup(amazon, clarus)
        order_ids = place_orders(amazon, args.orders)
        workers = start_workers(["orders", "shipments"], args.workers)
        pids = [w.pid for w in workers]
        cpu_before = cpu_seconds(pids)
        order_seconds = wait_for(lambda: sent(account) >= args.orders, "orders", 900, every="orders.import")
        cpu_orders = cpu_seconds(pids) - cpu_before
        dispatch_all(tenant, order_ids)
        packages = args.orders
        cpu_before = cpu_seconds(pids)
        confirm_seconds = wait_for(lambda: confirmed(account) >= packages, "confirmations", 900,
                                   every="shipments.poll_dispatches")
        cpu_confirm = cpu_seconds(pids) - cpu_before
        stop_workers(workers)
        workers = []
        queries, sample_cpu, sample_done = sample_queries(amazon, tenant, account, args.sample)
    finally:
        stop_workers(workers)
        amazon.stop()
        clarus.stop()
        cleanup()
    orders_rate = args.orders / order_seconds
    confirm_rate = packages / confirm_seconds
    cpu_ms = (cpu_orders + cpu_confirm) / args.orders * 1000
    sql = queries / args.sample
    print(f"{args.orders} orders, {args.workers} worker processes per lane (orders, shipments)")
    print(f"  imported and sent: {orders_rate:.1f} orders/s ({order_seconds:.1f}s); "
          f"confirmed: {confirm_rate:.1f} confirmations/s ({confirm_seconds:.1f}s)")
    print(f"  worker CPU per order: {cpu_ms:.1f} ms (orders lane phase {cpu_orders:.1f}s, "
          f"confirmation phase {cpu_confirm:.1f}s)")
    print(f"  sample of {args.sample} in one process: {sql:.1f} SQL statements and "
          f"{sample_cpu / args.sample * 1000:.1f} ms CPU per order ({sample_done} confirmed)")
    result = {"bench": "pipeline", "orders": args.orders, "workers_per_lane": args.workers,
              "orders_per_second": round(orders_rate, 1), "confirmations_per_second": round(confirm_rate, 1),
              "cpu_ms_per_order": round(cpu_ms, 2), "sql_per_order": round(sql, 1),
              "sample_cpu_ms_per_order": round(sample_cpu / args.sample * 1000, 2), "targets": TARGETS,
              "ok": orders_rate >= TARGETS["orders_per_second_min"]
              and confirm_rate >= TARGETS["confirmations_per_second_min"]
              and cpu_ms <= TARGETS["cpu_ms_per_order_max"] and sql <= TARGETS["sql_per_order_max"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
