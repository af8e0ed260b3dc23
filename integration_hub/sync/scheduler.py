"""Repeating jobs: declared with @repeating in an app's jobs.py, started by `manage.py run_scheduler`.

    @repeating("orders.import", every=120, queue="orders")
    def import_all_orders(): ...

The scheduler process enqueues each job when it is due. Only one scheduler acts at a time
(a Postgres advisory lock), so starting two by mistake does not double the work. Each run's
outcome is kept on its Schedule row, which the dashboard shows.
"""

import logging
import time
import traceback

from django.db import connection
from django.utils import timezone

from integration_hub.sync.engine import queue_for
from integration_hub.sync.models import Schedule

logger = logging.getLogger(__name__)

REPEATING = {}  # name -> (function, every seconds, queue)
SCHEDULER_LOCK_ID = 724_001  # arbitrary, fixed: the advisory lock only one scheduler may hold


def repeating(name, every, queue="default"):
    def decorate(func):
        REPEATING[name] = (func, every, queue)
        return func

    return decorate


def run_schedule(name):
    """The RQ job for a repeating function: runs it and records the outcome on its Schedule row."""
    func, every, _ = REPEATING[name]
    schedule, _ = Schedule.objects.get_or_create(name=name, defaults={"interval_seconds": every})
    started = timezone.now()
    try:
        result = func()
    except Exception as exc:
        logger.exception("repeating job %s failed", name)
        Schedule.objects.filter(pk=schedule.pk).update(
            last_run_at=started, last_error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
            consecutive_failures=schedule.consecutive_failures + 1,
        )
        raise
    Schedule.objects.filter(pk=schedule.pk).update(
        last_run_at=started, last_success_at=timezone.now(), last_error="", consecutive_failures=0
    )
    return result


def due_schedules(now):
    """Names of the enabled repeating jobs whose interval has passed since their last run."""
    rows = {s.name: s for s in Schedule.objects.all()}
    due = []
    for name, (_, every, _) in REPEATING.items():
        row = rows.get(name) or Schedule.objects.create(name=name, interval_seconds=every)
        if row.interval_seconds != every and row.last_run_at is None:
            row.interval_seconds = every
            row.save(update_fields=["interval_seconds"])
        if row.enabled and (row.last_run_at is None or (now - row.last_run_at).total_seconds() >= row.interval_seconds):
            due.append(name)
    return due


def tick(now=None):
    """Enqueue every due repeating job once; marks them as run so the next tick does not repeat them."""
    now = now or timezone.now()
    names = due_schedules(now)
    for name in names:
        _, _, queue = REPEATING[name]
        Schedule.objects.filter(name=name).update(last_run_at=now)
        queue_for(queue).enqueue(run_schedule, name)
    return names


def run_forever(poll_seconds=5):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCHEDULER_LOCK_ID])
        (locked,) = cursor.fetchone()
    if not locked:
        logger.warning("another scheduler holds the lock; this one waits")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SCHEDULER_LOCK_ID])
    logger.info("scheduler running %d repeating jobs", len(REPEATING))
    while True:
        tick()
        time.sleep(poll_seconds)
