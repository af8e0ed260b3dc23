"""The sync engine: work items in Postgres, carried by RQ, run by one runner.

    @handler(WorkKind.CONFIRM_SHIPMENT)
    def confirm_shipment(item): ...        # raise ConnectorError on failure, return on success

    submit(WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk), account=order.account,
           priority_at=order.latest_ship_date, is_prime=order.is_prime)

The table decides what runs next, not the queue: an RQ job is only a prompt for a lane
(`run_next`), and the worker claims the most urgent due row of that lane (earliest ship-by, Prime
first on ties) with `FOR UPDATE SKIP LOCKED`. A handler may still run twice (a worker killed
after the call, the sweeper recovering it): it must be idempotent.

Two layers of retry: the connector's quick tries inside a call, then the item's own schedule.
A transient failure (5xx, timeout, 429, open circuit) waits and costs no attempt: the item gives
up only at its deadline (the business clock: never before the order's ship-by, at least
WORK_MAX_AGE after it was queued). A permanent error, a deadline passed, or an unexpected error
(a bug) repeated `max_attempts` times makes the item a dead letter that an admin can retry.
When an item that had been waiting succeeds, the outage is over: the others waiting in its lane
for the same account are made due at once and drain most urgent first.
"""

import logging
import random
import time
import traceback
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import RedisError

from connectors.base import ConnectorError
from integration_hub.exchanges.recorder import on_behalf_of
from integration_hub.sync.choices import LANES, QUEUE_FOR_KIND, WorkState
from integration_hub.sync.locks import advisory_lock
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

HANDLERS = {}
# kind -> function(item, error) called when an item becomes a dead letter (e.g. mark the shipment failed).
DEAD_LETTER_HOOKS = {}
# A worker holds a Postgres advisory lock on each item it runs; the database drops it the moment the
# worker's connection dies (SIGKILL, out of memory, a lost host). A running item claimed longer ago than
# this whose lock nobody holds is an orphan and is due again at once.
ORPHAN_GRACE = timedelta(seconds=20)
# One prompt works its lane for at most this long, then hands over to a fresh prompt (and job).
LANE_BUDGET_SECONDS = 60
# The count of queued prompts expires after this long without a new prompt, so it cannot stay wrong.
PROMPT_COUNT_TTL = 300
# Work with less than this left before its ship-by is treated as already late when claiming: by the
# time its call has waited for quota and landed, it would be (measured with bench_burst).
CLAIM_LEAD = timedelta(seconds=1)


def handler(kind):
    def decorate(func):
        HANDLERS[kind] = func
        return func

    return decorate


def backoff_delay(attempts, base=10, cap=None):
    """Exponential back-off with full jitter: up to base * 2^(attempts-1) seconds, capped.

    The cap is short (HUB_WORK_RETRY_CAP_SECONDS) so that work waiting out an outage is tried
    again within minutes of the outside system coming back.
    """
    cap = cap or settings.WORK_RETRY_CAP_SECONDS
    return timedelta(seconds=random.uniform(base / 2, max(base / 2, min(cap, base * 2 ** max(0, attempts - 1)))))


def deadline_for(priority_at, now=None):
    """When transient failures stop being retried: never before ship-by, at least WORK_MAX_AGE away."""
    now = now or timezone.now()
    at_least = now + timedelta(hours=settings.WORK_MAX_AGE_HOURS)
    return max(at_least, priority_at) if priority_at else at_least


# ---- queueing ----------------------------------------------------------------------------

_queues = {}


def queue_for(lane):
    """The RQ queue of a lane, one per process (not a new Redis connection per enqueue)."""
    if lane not in _queues:
        _queues[lane] = django_rq.get_queue(lane)
    return _queues[lane]


def submit(kind, key, *, account=None, payload=None, reset=False, priority_at=None, is_prime=False):
    """Create the work item for (kind, key) unless it exists, and prompt its lane after commit.

    `priority_at` is the business time the work must beat (the order's ship-by); with reset=True a
    finished or dead item is made due again (a re-fetch, a new dispatch).
    """
    now = timezone.now()
    urgency = {"priority_at": priority_at, "is_prime": is_prime, "deadline": deadline_for(priority_at, now)}
    item, created = WorkItem.objects.get_or_create(
        kind=kind, key=str(key), defaults={"account": account, "payload": payload or {}, **urgency}
    )
    if not created and reset:
        _ask_again(item, now, urgency, payload)
        item.refresh_from_db()
    if item.state in (WorkState.PENDING, WorkState.RETRYING):
        enqueue(item)
    return item


def submit_many(kind, items, *, reset=False):
    """submit() for many items of one kind: `items` are dicts of submit()'s arguments (key, account,
    payload, priority_at, is_prime). The new ones are written with one INSERT and their lane prompted
    once; any that exists already goes through submit() on its own."""
    if not items:
        return
    now = timezone.now()
    existing = set(WorkItem.objects.filter(kind=kind, key__in=[str(item["key"]) for item in items])
                   .values_list("key", flat=True))
    fresh = [WorkItem(kind=kind, key=str(item["key"]), account=item.get("account"), payload=item.get("payload") or {},
                      priority_at=item.get("priority_at"), is_prime=item.get("is_prime", False),
                      deadline=deadline_for(item.get("priority_at"), now), next_attempt_at=now)
             for item in items if str(item["key"]) not in existing]
    WorkItem.objects.bulk_create(fresh, ignore_conflicts=True)  # one created meanwhile is as good as ours
    for item in items:
        if str(item["key"]) in existing:
            submit(kind, **item, reset=reset)
    if fresh:
        prompt(QUEUE_FOR_KIND.get(kind, "default"), len(fresh))


def _ask_again(item, now, urgency, payload):
    """Make existing work run (again) with fresh data: a finished or dead item becomes due, a waiting one
    due now, and a running one runs once more when it ends (what it read may predate the request).
    Each step is one conditional UPDATE; if the state moved in between, the next step catches it."""
    rows = WorkItem.objects.filter(pk=item.pk)
    fresh = {"payload": payload} if payload is not None else {}
    for _ in range(5):
        if rows.filter(state__in=[WorkState.DONE, WorkState.DEAD]).update(
                state=WorkState.PENDING, attempts=0, waits=0, next_attempt_at=now, last_error="", dead_at=None,
                rerun=False, **urgency, **fresh):
            return
        if rows.filter(state__in=[WorkState.PENDING, WorkState.RETRYING]).update(next_attempt_at=now, **fresh):
            return
        if rows.filter(state=WorkState.RUNNING).update(rerun=True, **fresh):
            return


def enqueue(item):
    """Prompt the item's lane once the transaction commits (the row must be visible to the worker)."""
    prompt(QUEUE_FOR_KIND.get(item.kind, "default"))


def _prompt_key(lane):
    return f"hub:prompts:{lane}"


def prompt(lane, count=1):
    """Queue up to `count` prompts for a lane after commit, keeping at most WORK_PROMPTS_PER_LANE queued:
    each prompt drains its lane, so a page of 100 new orders needs a few, not 100, in front of the
    lane's scheduled jobs. A counter in Redis (expiring, so a lost decrement heals) tracks them."""
    queue = queue_for(lane)

    def send():
        redis = queue.connection
        key = _prompt_key(lane)
        try:
            for _ in range(count):
                if redis.incr(key) > settings.WORK_PROMPTS_PER_LANE:
                    redis.decr(key)
                    break
                redis.expire(key, PROMPT_COUNT_TTL)
                queue.enqueue(run_next, lane, job_timeout=600)
        except RedisError as exc:  # the row is in Postgres: the sweeper prompts the lane when Redis is back
            logger.warning("could not prompt the %s lane (%s); the sweeper will", lane, exc)

    transaction.on_commit(send)


def _prompt_taken(lane):
    redis = queue_for(lane).connection
    if redis.decr(_prompt_key(lane)) < 0:
        redis.set(_prompt_key(lane), 0, ex=PROMPT_COUNT_TTL)


def retry(item):
    """An admin's one-click retry of a dead letter."""
    now = timezone.now()
    updated = WorkItem.objects.filter(pk=item.pk, state=WorkState.DEAD).update(
        state=WorkState.PENDING, attempts=0, waits=0, next_attempt_at=now, last_error="", dead_at=None,
        deadline=deadline_for(item.priority_at, now),
    )
    if updated:
        item.refresh_from_db()
        enqueue(item)
    return bool(updated)


def replay(item):
    """Run an item's unit of work again now, its cause fixed: a dead letter is retried (as `retry`), one
    waiting for its next try is made due. Returns what was done, in words; work done or under way is left."""
    if item.state == WorkState.DEAD:
        return "queued again (it was a dead letter)" if retry(item) else "left: it changed meanwhile"
    if item.state == WorkState.RETRYING:
        if WorkItem.objects.filter(pk=item.pk, state=WorkState.RETRYING).update(next_attempt_at=timezone.now()):
            item.refresh_from_db()
            enqueue(item)
            return "made due now (it was waiting for its next try)"
        return "left: it changed meanwhile"
    return f"left: it is {item.get_state_display().lower()}"


# ---- running -----------------------------------------------------------------------------


def claim_next(lane, now=None, accounts=None):
    """Claim the most urgent due item of a lane (of some accounts only, for `sync`), or None.
    Concurrent workers skip each other's rows.

    Most urgent: earliest ship-by, Prime first on ties; but work already past its ship-by is late
    whatever happens, so it goes after the work that can still be on time (with Amazon's quota as
    the bottleneck this keeps the count of late orders, what Late Shipment Rate counts, lowest),
    and undated work goes last.
    """
    now = now or timezone.now()
    due = WorkItem.objects.due(now).filter(kind__in=LANES[lane], attempts__lt=F("max_attempts"))
    if accounts is not None:
        due = due.filter(account__in=accounts)
    cut = now + CLAIM_LEAD  # less time left than a call takes: it lands late whatever happens
    with transaction.atomic():
        item = None
        for band in (Q(priority_at__gte=cut), Q(priority_at__lt=cut), Q(priority_at__isnull=True)):
            item = due.filter(band).order_by(*WorkItem.URGENCY).select_for_update(skip_locked=True).first()
            if item is not None:
                break
        if item is None:
            return None
        WorkItem.objects.filter(pk=item.pk).update(state=WorkState.RUNNING, attempts=F("attempts") + 1,
                                                   claimed_at=now)
    item.state, item.attempts, item.claimed_at = WorkState.RUNNING, item.attempts + 1, now
    return item


def run_next(lane, budget_seconds=None):
    """The RQ job: work the lane's due items, most urgent first, until none is due or the budget is spent.

    Every claim re-reads the table, so an urgent item that arrives meanwhile goes next.
    """
    _prompt_taken(lane)
    budget = LANE_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    done = 0
    while True:
        item = claim_next(lane)
        if item is None:
            return f"{done} run"
        run_claimed(item)
        done += 1
        if time.monotonic() - started >= budget:
            if WorkItem.objects.due().filter(kind__in=LANES[lane]).exists():
                prompt(lane)  # hand over, so one job never holds a worker for ever
            return f"{done} run, budget spent"


def run_work_item(pk):
    """Run one given item now if it is due (the `sync` command, tests). Claims it like `claim_next`."""
    now = timezone.now()
    claimed = WorkItem.objects.due(now).filter(pk=pk, attempts__lt=F("max_attempts")).update(
        state=WorkState.RUNNING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return "not due or taken by another worker"
    return run_claimed(WorkItem.objects.get(pk=pk))


def run_claimed(item):
    """Run a claimed item's handler and record the outcome on its row.

    The item's advisory lock is held for the run, so `sweep` can tell a dead worker's item from a busy one.
    """
    with advisory_lock(f"work-item:{item.pk}") as held:
        if not held:
            # Another session holds it: the sweeper making it due again at this very moment, or a run
            # still going whose row was re-queued. Never two runs at once: hand the claim back.
            WorkItem.objects.filter(pk=item.pk, state=WorkState.RUNNING, claimed_at=item.claimed_at).update(
                state=WorkState.RETRYING, attempts=F("attempts") - 1,
                next_attempt_at=timezone.now() + timedelta(seconds=1))
            return "busy elsewhere; handed back"
        return _run_claimed(item)


def _run_claimed(item):
    func = HANDLERS[item.kind]
    try:
        with on_behalf_of(item.pk):  # each exchange the run records names this item
            result = func(item)
    except ConnectorError as exc:
        if exc.permanent:
            _dead(item, exc.message)
        else:
            _wait(item, exc.message, retry_after=exc.retry_after)
        return f"failed: {exc.message}"
    except Exception as exc:  # a bug or an unexpected reply: kept, retried, visible with its traceback
        logger.exception("work item %s failed", item.pk)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        if item.attempts >= item.max_attempts:
            _dead(item, error)
        else:
            _reschedule(item, error, backoff_delay(item.attempts))
        return f"errored: {exc}"
    now = timezone.now()
    _finished(item, now)
    if item.waits:
        _outage_over(item, now)
    return result if isinstance(result, str) else "done"


def _finished(item, now):
    """Done, unless it was asked again while running: then it is due once more."""
    rows = _this_run(item).filter(state=WorkState.RUNNING)
    while True:
        if rows.filter(rerun=True).update(state=WorkState.PENDING, rerun=False, next_attempt_at=now, last_error=""):
            enqueue(item)
            return
        if rows.filter(rerun=False).update(state=WorkState.DONE, done_at=now, last_error="") or not rows.exists():
            return


def _wait(item, error, retry_after=None):
    """A transient failure: wait without using an attempt, unless the deadline has passed."""
    now = timezone.now()
    if item.deadline and now >= item.deadline:
        _dead(item, f"gave up at the deadline ({item.deadline:%Y-%m-%d %H:%M %Z}) after {item.waits + 1} "
                    f"waits; last error: {error}")
        return
    delay = timedelta(seconds=retry_after) if retry_after else backoff_delay(item.waits + 1)
    _this_run(item).update(attempts=F("attempts") - 1, waits=F("waits") + 1)
    _reschedule(item, error, min(delay, item.deadline - now) if item.deadline else delay)


def _this_run(item):
    """The row while it is still this run's: a run that lost its claim (its row was made due again and
    claimed anew) must not overwrite the newer run's outcome."""
    rows = WorkItem.objects.filter(pk=item.pk)
    return rows.filter(state=WorkState.RUNNING, claimed_at=item.claimed_at) if item.claimed_at else rows


def _reschedule(item, error, delay):
    _this_run(item).update(state=WorkState.RETRYING, last_error=error, next_attempt_at=timezone.now() + delay)


def _dead(item, error):
    if not _this_run(item).update(state=WorkState.DEAD, last_error=error, dead_at=timezone.now()):
        return
    logger.error("work item %s (%s %s) is a dead letter: %s", item.pk, item.kind, item.key, error.splitlines()[0])
    on_dead = DEAD_LETTER_HOOKS.get(item.kind)
    if on_dead:
        on_dead(item, error)


def _outage_over(item, now):
    """The first success after waiting: the other waiting items of that kind and account (the same
    outside system) are due now."""
    woken = (WorkItem.objects.filter(state=WorkState.RETRYING, kind=item.kind, account_id=item.account_id,
                                     waits__gt=0, next_attempt_at__gt=now)
             .update(next_attempt_at=now))
    if woken:
        logger.info("%s for account %s works again: %d waiting items are due now", item.kind, item.account_id,
                    woken)
        prompt(QUEUE_FOR_KIND[item.kind])


def recover_orphans(now):
    """Running items whose worker died (their advisory lock is free) are due again now; returns how many.

    The dead run keeps its attempt, so an item that kills its worker every time (out of memory) still
    ends as a dead letter instead of looping. A run whose worker is alive keeps its item however long it
    takes (every outside call has a timeout); only a lost lock (its database session ended) frees it.
    """
    candidates = WorkItem.objects.filter(state=WorkState.RUNNING, claimed_at__lt=now - ORPHAN_GRACE)
    recovered = 0
    for item in candidates.only("pk", "kind", "key", "account_id", "claimed_at", "attempts", "max_attempts")[:500]:
        with advisory_lock(f"work-item:{item.pk}") as free:
            if not free:
                continue  # its worker is alive and still at it
            if item.attempts >= item.max_attempts:
                _dead(item, f"worker lost while running, {item.attempts} times; giving up")
                continue
            still = WorkItem.objects.filter(pk=item.pk, state=WorkState.RUNNING, claimed_at=item.claimed_at)
            recovered += still.update(
                state=WorkState.RETRYING, next_attempt_at=now, rerun=False,
                last_error="its worker died while running it; due again")
    if recovered:
        logger.warning("%d running work items had lost their worker; due again", recovered)
    return recovered


def sweep():
    """Recover items whose worker died and prompt every lane that has due work and too few prompts.

    This is why losing Redis loses no work: the table is the record, the queue only a prompt.
    """
    now = timezone.now()
    recover_orphans(now)
    prompted = 0
    limit = settings.WORK_PROMPTS_PER_LANE
    for lane, kinds in LANES.items():
        due = len(WorkItem.objects.due(now).filter(kind__in=kinds).values_list("pk", flat=True)[:limit])
        queue = queue_for(lane)
        queued = int(queue.connection.get(_prompt_key(lane)) or 0)
        if queued > queue.count:  # prompts deleted from the queue by hand (django-rq): count what is there
            queued = queue.count
            queue.connection.set(_prompt_key(lane), queued, ex=PROMPT_COUNT_TTL)
        missing = due - queued
        if missing > 0:
            prompt(lane, missing)
            prompted += missing
    return prompted
