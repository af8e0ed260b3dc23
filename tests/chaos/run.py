"""The chaos run: orders, dispatches and stock flow through the hub as deployed while everything around
it fails, then the hub's promises are checked against the emulators' own records.

Three Amazon sellers (emulators over loopback HTTP), fulfilled by Clarus WMS (HTTP emulator), Dynamics SL
(Transaction Import runner) and Sage 500 (staging tables and procedures, reached through a proxy on the
Postgres wire); the hub's real processes (RQ workers per lane, the scheduler, an SQS poller per seller for
ORDER_CHANGE notifications); Postgres and Redis. This
process plays Amazon's buyers (orders, cancellations), the warehouse floor (ships what is waiting, some
orders in two packages; goods in and stock counts), the scheduler (time-compressed) and the saboteur:

- from the start, about 20% of Amazon's answers fail (429, 500/503/504, a proxy's HTML 502, a reset or
  a timeout before the call is read, and the write applied but its reply lost), 8% of Clarus' too, and
  about 7% of Sage's transactions (reset, hang, deadlock victim, COMMIT applied but its reply lost);
- Amazon refuses one confirmation for good (a 400: the dead letter the script accounts for, which it
  then retries as ops would, one click) and accepts stock updates it later rejects (the listing keeps
  its old quantity: only the drift check, which reads Amazon's quantities back, can see it);
- Sage shipments commit out of key order (a shipment takes its key, a later one commits first);
- a 429 storm on one seller; every back office down for a while (Clarus answers 503, the SL runner
  stops importing, Sage's connections are reset and refused);
- RQ workers SIGKILLed in the middle of their jobs (a supervisor starts them again), Redis flushed,
  the scheduler restarted; SQS delivers a tenth of the notifications twice and lets newer ones
  overtake another tenth.

Then the faults stop and the hub must drain by itself. The checks: every order that should reach its
back office is there exactly once, cancelled ones are cancelled there; every package is confirmed on
Amazon exactly once with the mapped carrier code; every SKU's quantity on Amazon is the warehouse's
available stock minus the buffer; nothing is left pending; no dead letter but the ones the injected
permanent faults explain; the exchange log has at least a row for every SP-API request Amazon answered. It ends
with one JSON line and exits non-zero, printing what broke and the seed, if any check fails.

    python tests/chaos/run.py [--seed S] [--orders 2000]      # `make chaos`; replay a run with its seed

Uses DATABASE_URL/REDIS_URL when set (the run's Redis database is flushed on purpose), otherwise
embedded servers under var/chaos.
"""

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# Per-call fault rates (each emulator rolls its own seeded generator, so a run replays from its seed).
AMAZON_FAULTS = {"429": 0.03, "500": 0.03, "503": 0.03, "504": 0.02, "html_502": 0.03, "reset": 0.02,
                 "timeout": 0.01, "applied_then_reset": 0.02, "applied_then_timeout": 0.01}
CLARUS_FAULTS = {"429": 0.02, "500": 0.02, "503": 0.01, "html_502": 0.01, "reset": 0.01, "applied_then_reset": 0.01}
# The SL Transaction Import agent crashes before an import or after it committed (then is down a second).
SL_AGENT_FAULTS = {"reset": 0.02, "applied_then_reset": 0.03, "latency": 0.02}
# Per Sage 500 transaction, on the wire (connectors.sql_faults).
SAGE_FAULTS = {"reset": 0.01, "timeout": 0.005, "deadlock": 0.02, "applied_then_reset": 0.02,
               "applied_then_timeout": 0.005, "latency": 0.01}
SAGE_SCRIPTED = {"spSOapiSalesOrdIns": ("applied_then_reset", "deadlock", "applied_then_timeout", "reset", "timeout",
                                         "latency")}
# The permanent fault's message (see the Amazon emulator): a dead letter whose error says it is explained.
INJECTED_PERMANENT = "a permanent fault the emulator was told to inject"
# Each kind fires at least once, on a write where it matters most, in every run (the short one too).
SCRIPTED = {"confirmShipment": ("applied_then_reset", "applied_then_timeout", "html_502", "429", "504", "reset",
                                "timeout", "500", "400", "503", "latency"),
            "createFeed": ("applied_then_reset",),
            "patchListingsItem": ("applied_then_timeout", None, "accepted_then_rejected")}
# Every seller's Amazon takes some stock updates and rejects them later.
REJECTED_LATER = {"patchListingsItem": (None, None, None, "accepted_then_rejected", None, "accepted_then_rejected")}
# Repeating jobs, every this many seconds (compressed from minutes).
SCHEDULE = {"orders.import": 2, "shipments.poll_dispatches": 2, "sync.sweep": 3, "stock.fast": 4,
            "stock.medium": 8, "stock.slow": 16, "stock.follow_feeds": 3, "orders.watch_back_office": 20,
            "stock.drift_check": 10}
# One worker process per entry, listening on those lanes; the orders lane has three (an SL create waits
# for the Transaction Import runner, a Sage create is several transactions: the lane waits, not the CPU).
WORKERS = [("orders",), ("orders",), ("orders",), ("shipments",), ("stock", "default")]
WORKER_ENV = {"HUB_INTAKE_MIN_POLL_GAP_SECONDS": "0", "HUB_INTAKE_OVERLAP_SECONDS": "5",
              "HUB_WORK_RETRY_CAP_SECONDS": "4", "HUB_CIRCUIT_COOL_DOWN_SECONDS": "2", "HUB_LOG_LEVEL": "WARNING"}


class Processes:
    """The hub's real processes (RQ workers, the scheduler, the SQS pollers), each in its own process group
    and restarted when it exits, as systemd or a container runtime would."""

    def __init__(self, specs, env, log):
        self.specs = specs  # [(name, manage.py arguments, extra environment)]
        self.env, self.log = env, log
        self.processes = {}
        self.restarts = 0

    def _start(self, name):
        _, argv, extra = next(spec for spec in self.specs if spec[0] == name)
        self.processes[name] = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), *argv], env=dict(self.env, **extra), stdout=self.log,
            stderr=self.log, start_new_session=True)

    def start(self):
        for name, _, _ in self.specs:
            self._start(name)

    def supervise(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                self.restarts += 1
                self._start(name)

    def kill_worker(self, rng):
        """SIGKILL one RQ worker and its work-horse, mid-job if it has one; returns its name."""
        name = rng.choice([name for name, _, _ in self.specs if name.startswith("worker")])
        self._end(name, signal.SIGKILL)
        self._start(name)
        return name

    def restart(self, name):
        """Stop a process as a deploy does (SIGTERM), then start it again."""
        self._end(name, signal.SIGTERM)
        self._start(name)

    def _end(self, name, how):
        process = self.processes[name]
        os.killpg(process.pid, how)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def process_specs(world):
    """RQ workers per lane (the orders lane has three: SL and Sage creates wait on their back office),
    the scheduler, and one SQS poller per seller (each Amazon emulator publishes to its own queue)."""
    specs = [(f"worker {'+'.join(lanes)} {n}", ["rqworker", *lanes], {}) for n, lanes in enumerate(WORKERS)]
    specs.append(("scheduler", ["run_scheduler", "--poll", "1"], {}))
    for seller in world.sellers:
        specs.append((f"sqs poller {seller.name}", ["amazon_sqs_poller", "--queue-url", seller.amazon.sqs_queue_url],
                      {"HUB_AMAZON_SQS_ENDPOINT": seller.amazon.url, "HUB_AMAZON_SQS_REGION": "eu-west-1",
                       "AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator"}))
    return specs


class Scheduler:
    """Queues each repeating job every SCHEDULE seconds, unless its last run is still queued or running."""

    def __init__(self):
        self.last = {}

    def tick(self, now):
        from rq.exceptions import InvalidJobOperation, NoSuchJobError
        from rq.job import Job

        from integration_hub.sync.engine import queue_for
        from integration_hub.sync.scheduler import REPEATING, run_schedule

        for name, every in SCHEDULE.items():
            if now - self.last.get(name, -1e9) < every:
                continue
            queue = queue_for(REPEATING[name][2])
            job_id = f"chaos-{name}"
            try:
                if Job.fetch(job_id, connection=queue.connection).get_status() in ("queued", "started"):
                    continue
            except (NoSuchJobError, InvalidJobOperation):  # gone, or finished while it was being read
                pass
            queue.enqueue(run_schedule, name, job_id=job_id, result_ttl=0, failure_ttl=60)
            self.last[name] = now


def database_url(settings_dict):
    """A postgres:// URL for the worker processes (the test database under pytest)."""
    from urllib.parse import quote

    user = quote(settings_dict.get("USER") or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or ""
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


def run(seed, orders, workdir, *, rate=8.0, say=print):
    """One chaos run of `orders` orders placed at `rate` per second; returns (result, [what broke])."""
    import django_rq
    from django.conf import settings
    from django.db import connection

    from tests.chaos.world import World

    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    world = World(seed, workdir)
    log = open(workdir / "workers.log", "a")  # noqa: SIM115 - the workers write to it for the whole run
    env = dict(os.environ, **WORKER_ENV, DATABASE_URL=database_url(connection.settings_dict),
               REDIS_URL=settings.REDIS_URL, PYTHONPATH=str(BASE_DIR))
    redis = django_rq.get_connection("default")
    workers = None
    scheduler = Scheduler()
    started = time.monotonic()
    events = Counter()
    try:
        world.set_up(quota_multiplier=20)
        redis.flushdb()
        for n, seller in enumerate(world.sellers):
            seller.amazon.fault_plan.hold_seconds = 1.0
            seller.amazon.fault_plan.randomly(AMAZON_FAULTS, seed=seed * 10 + n)
        for operation, faults in SCRIPTED.items():
            world.sellers[0].amazon.fault_plan.script(operation, *faults)
        for seller in world.sellers[1:]:
            for operation, faults in REJECTED_LATER.items():
                seller.amazon.fault_plan.script(operation, *faults)
        world.sage_proxy.plan.hold_seconds = 1.0
        world.sage_proxy.plan.randomly(SAGE_FAULTS, seed=seed * 10 + 3)
        for operation, faults in SAGE_SCRIPTED.items():
            world.sage_proxy.plan.script(operation, *faults)
        world.clarus.fault_plan.hold_seconds = 1.0
        world.clarus.fault_plan.randomly(CLARUS_FAULTS, seed=seed * 10 + 9)
        world.sl_runner.fault_plan.hold_seconds, world.sl_runner.restart_seconds = 0.5, 1.0
        world.sl_runner.fault_plan.randomly(SL_AGENT_FAULTS, seed=seed * 10 + 4)
        for n, seller in enumerate(world.sellers):  # SQS: some notifications twice, some overtaken by newer ones
            seller.amazon.state.sqs.misbehave(0.1, 0.1, late_seconds=5.0, seed=seed * 10 + 5 + n)
        workers = Processes(process_specs(world), env, log)
        workers.start()
        arrival_seconds = orders / rate
        # The saboteur's timeline, as fractions of the arrival phase.
        storm = (0.25 * arrival_seconds, 0.25 * arrival_seconds + max(5.0, 0.08 * arrival_seconds))
        outage = (0.4 * arrival_seconds, 0.4 * arrival_seconds + max(8.0, 0.1 * arrival_seconds))
        kills = [f * arrival_seconds for f in (0.2, 0.5, 0.75)]
        restarts = [0.45 * arrival_seconds]  # the scheduler, as a deploy restarts it
        flushes = [0.6 * arrival_seconds]
        placed, last_report, now = 0, 0.0, 0.0
        # Faults go on after the last order until the floor has shipped what it can (or for as long
        # again as the arrivals took): the hub must work through them, not merely wait them out.
        chaos_limit = 2 * arrival_seconds
        while placed < orders or (now < chaos_limit and not _floor_done(world)):
            now = time.monotonic() - started
            due = min(orders, int(now * rate) + 1)
            while placed < due:
                world.place_order(rng.choice(world.sellers), rng)
                placed += 1
                if rng.random() < 0.04:
                    world.cancel_one(rng.choice(world.sellers), rng)
            if placed < orders and rng.random() < 0.3:
                world.change_stock(rng.choice(world.sellers), rng)
            _sabotage(world, workers, redis, rng, now, storm, outage, kills, flushes, events, say)
            if events["restart"] < len(restarts) and now >= restarts[events["restart"]]:
                events["restart"] += 1
                workers.restart("scheduler")
                say(f"{now:5.0f}s  scheduler restarted")
            for seller in world.sellers:
                if seller.kind in ("clarus", "sage500") and outage[0] <= now < outage[1]:
                    continue  # the floor cannot reach its WMS or ERP either
                world.ship_waiting(seller, rng)
            scheduler.tick(now)
            workers.supervise()
            last_report = _report(world, now, last_report, say)
            time.sleep(0.25)
        say(f"{time.monotonic() - started:5.0f}s  all {orders} orders placed and the floor has shipped what it "
            f"could; faults stop, the hub drains")
        for seller in world.sellers:
            seller.amazon.fault_plan.clear()
        world.clarus.fault_plan.clear()
        world.sl_runner.fault_plan.clear()
        world.sage_proxy.plan.clear()
        world.clarus.set_outage(None)
        world.sl_runner.resume()
        world.sage_proxy.set_outage(False)
        drain_limit = time.monotonic() + max(180.0, arrival_seconds * 2)
        figures, broken, last_check = None, ["never checked"], -1e9
        while time.monotonic() < drain_limit:
            now = time.monotonic() - started
            for seller in world.sellers:
                world.ship_waiting(seller, rng)
            scheduler.tick(now)
            workers.supervise()
            last_report = _report(world, now, last_report, say)
            if _settled(world) and _ops_retry_explained(world, events, say, now):
                continue  # the retried dead letters are work again
            if _settled(world) and now - last_check >= 10:  # a check reads every order back: not too often
                last_check = now
                figures, broken = world.check()
                if not broken:
                    break
                say(f"{now:5.0f}s  not yet: {len(broken)} problem(s), e.g. {'; '.join(broken[:3])}")
            time.sleep(0.5)
        if figures is None:
            figures, broken = world.check()
    finally:
        if workers is not None:
            workers.stop()
        log.close()
        fired = Counter(fault for seller in world.sellers for _, fault in seller.amazon.fault_plan.fired)
        fired.update(f"clarus {fault}" for _, fault in world.clarus.fault_plan.fired)
        fired.update(f"sl agent {fault}" for _, fault in world.sl_runner.fault_plan.fired)
        fired.update(f"sage {fault}" for _, fault in world.sage_proxy.plan.fired)
        world.stop()
    names = ("orders", "cancelled", "sales_orders_created", "duplicate_sales_orders", "packages", "confirmed_once",
             "duplicate_confirmations", "lost", "cancelled_still_live", "skus_checked", "stock_mismatches", "pending",
             "unexplained_dead_letters", "amazon_requests_seen", "amazon_exchanges_logged")
    figures["dead_letters_explained"] = events["explained"]
    result = {"chaos": True, "seed": seed, **{name: figures[name] for name in names},
              "faults_fired": dict(sorted(fired.items())), "worker_kills": events["kill"],
              "process_restarts": workers.restarts if workers else 0, "redis_flushes": events["flush"],
              "scheduler_restarts": events["restart"], "dead_letters_explained": events["explained"],
              "dead_letters_retried": events["retried"],
              "sqs_duplicated": sum(s.amazon.state.sqs.duplicated for s in world.sellers),
              "sqs_delayed": sum(s.amazon.state.sqs.delayed for s in world.sellers),
              "seconds": round(time.monotonic() - started, 1), "ok": not broken}
    return result, broken


def _sabotage(world, workers, redis, rng, now, storm, outage, kills, flushes, events, say):
    storm_seller = world.sellers[0].amazon.fault_plan
    if storm[0] <= now < storm[1] and not events["storm"]:
        events["storm"] += 1
        storm_seller.randomly({"429": 0.9}, seed=world.seed * 10 + 7)
        say(f"{now:5.0f}s  429 storm on {world.sellers[0].name}")
    elif now >= storm[1] and events["storm"] == 1:
        events["storm"] += 1
        storm_seller.randomly(AMAZON_FAULTS, seed=world.seed * 10 + 8)
    if outage[0] <= now < outage[1] and not events["outage"]:
        events["outage"] += 1
        world.clarus.set_outage(503)
        world.sl_runner.pause()
        world.sage_proxy.set_outage(True)
        say(f"{now:5.0f}s  every back office down for {outage[1] - outage[0]:.0f}s")
    elif now >= outage[1] and events["outage"] == 1:
        events["outage"] += 1
        world.clarus.set_outage(None)
        world.sl_runner.resume()
        world.sage_proxy.set_outage(False)
    if events["kill"] < len(kills) and now >= kills[events["kill"]]:
        events["kill"] += 1
        say(f"{now:5.0f}s  SIGKILL {workers.kill_worker(rng)}")
    if events["flush"] < len(flushes) and now >= flushes[events["flush"]]:
        events["flush"] += 1
        redis.flushdb()
        say(f"{now:5.0f}s  Redis flushed")


def _ops_retry_explained(world, events, say, now):
    """Ops at work: each dead letter an injected permanent fault explains is retried with one click (the
    cause is gone); returns how many. Dead letters nothing explains are left for the checks to report."""
    from integration_hub.sync.choices import WorkState
    from integration_hub.sync.engine import retry
    from integration_hub.sync.models import WorkItem

    accounts = [seller.account for seller in world.sellers]
    explained = [item for item in WorkItem.objects.filter(account__in=accounts, state=WorkState.DEAD)
                 if INJECTED_PERMANENT in item.last_error]
    for item in explained:
        events["explained"] += 1
        events["retried"] += retry(item)
        say(f"{now:5.0f}s  ops retry dead letter {item.kind} {item.key} (explained: {INJECTED_PERMANENT})")
    return len(explained)


def _floor_done(world):
    return all(len(seller.packages) + len(seller.cancelled) >= len(seller.placed) for seller in world.sellers)


def _settled(world):
    """Every order the floor could ship is shipped, and the hub has no work left."""
    from integration_hub.sync.choices import WorkState
    from integration_hub.sync.models import WorkItem

    if not _floor_done(world):
        return False
    accounts = [seller.account for seller in world.sellers]
    return not WorkItem.objects.filter(account__in=accounts).exclude(
        state__in=[WorkState.DONE, WorkState.DEAD]).exists()


def _report(world, now, last, say):
    if now - last < 10:
        return last
    from integration_hub.orders.models import Order
    from integration_hub.sync.models import WorkItem

    accounts = [seller.account for seller in world.sellers]
    states = Counter(WorkItem.objects.filter(account__in=accounts).values_list("state", flat=True))
    say(f"{now:5.0f}s  placed {sum(len(s.placed) for s in world.sellers)}, in the hub "
        f"{Order.objects.filter(account__in=accounts).count()}, shipped "
        f"{sum(len(s.packages) for s in world.sellers)}; work {dict(states)}")
    return now


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a new random seed)")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=5.0, help="orders placed per second")
    parser.add_argument("--keep", action="store_true", help="leave the run's rows in the database to inspect")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    sys.path.insert(0, str(BASE_DIR))
    from integration_hub.devserver import embedded_postgres, embedded_redis, stop_embedded

    base = BASE_DIR / "var" / "chaos"
    servers = []
    os.environ.setdefault("HUB_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
    try:
        if not os.environ.get("DATABASE_URL"):
            server, os.environ["DATABASE_URL"] = embedded_postgres(base)
            servers.append(server)
        if not os.environ.get("REDIS_URL"):
            server, os.environ["REDIS_URL"] = embedded_redis(base)
            servers.append(server)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        logging.getLogger("connectors").setLevel(logging.WARNING)  # the emulators' own chatter
        print(f"chaos run, seed {seed}: {args.orders} orders at {args.rate:g}/s", flush=True)
        result, broken = run(seed, args.orders, base / f"run-{seed}", rate=args.rate,
                             say=lambda text: print(text, flush=True))
        if not args.keep:
            from tests.chaos.world import cleanup

            cleanup()
    finally:
        stop_embedded(servers)
    for line in broken[:40]:
        print(f"BROKEN: {line}")
    if broken:
        print(f"{len(broken)} problem(s); replay with: python tests/chaos/run.py --seed {seed} --orders {args.orders}")
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
