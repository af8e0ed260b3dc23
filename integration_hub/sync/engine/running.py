"""Running claimed work and recording its outcome; the sweeper (see the package docstring)."""

import logging
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.exchanges.recorder import completions_later, on_behalf_of, with_completions, write_later
from integration_hub.sync.choices import LANES, QUEUE_FOR_KIND, WorkState
from integration_hub.sync.engine.claiming import BATCH_SIZES, ORPHANED, WORK_LOCK_BASE, claim_batch, work_lock_key
from integration_hub.sync.engine.queueing import (
    _prompt_taken,
    backoff_delay,
    jobs_waiting_behind,
    prompt,
    queued_prompts,
)
from integration_hub.sync.locks import advisory_lock_id, lock_id
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

HANDLERS = {}
# kind -> function(items) that loads what a claimed batch of such items needs in a few queries (see `handler`).
PREPARERS = {}
# kind -> function(item, error) called when an item becomes a dead letter (e.g. mark the shipment failed).
DEAD_LETTER_HOOKS = {}
# A worker holds a Postgres advisory lock on each item it runs (key WORK_LOCK_BASE + pk, taken by the
# claim itself); the database drops it the moment the worker's connection dies (SIGKILL, out of memory,
# a lost host). A running item claimed longer ago than this whose lock nobody holds is an orphan and is
# due again at once.
ORPHAN_GRACE = timedelta(seconds=20)
# One prompt works its lane for at most this long, then hands over to a fresh prompt (and job).
LANE_BUDGET_SECONDS = 60
# ...and hands over sooner, after this long, when one of the lane's repeating jobs waits behind it; not
# at once: each job is a fork of the worker with its own database connection (handing over after every
# claim cost more CPU than the work), and ten seconds is nothing beside searchOrders' three minutes.
HANDOVER_AFTER = settings.WORK_HANDOVER_SECONDS


def handler(kind, prepare=None, batch_size=None):
    """Register the function that runs a kind's items.

    With `prepare`, a worker claims up to `batch_size` due items of the kind and account at once (in
    urgency order; an int, or a function of the most urgent item, e.g. the quota tokens there are now),
    `prepare(items)` loads what they need in a few queries, then each runs as usual and the successes
    are recorded together: the fixed cost of a claim is paid once per batch, not once per item.
    """
    def decorate(func):
        HANDLERS[kind] = func
        if prepare is not None:
            PREPARERS[kind] = prepare
            BATCH_SIZES[kind] = batch_size or settings.WORK_CLAIM_BATCH
        return func

    return decorate


def run_next(lane, budget_seconds=None):
    """The RQ job: work the lane's due items, most urgent first, until none is due or the budget is spent.

    Every claim re-reads the table, so an urgent item that arrives meanwhile goes next (after the
    batch in hand, which a kind's batch size keeps to what can go out at once).
    """
    _prompt_taken(lane)
    budget = LANE_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    done = 0
    while True:
        items = claim_batch(lane)
        if not items:
            return f"{done} run"
        run_batch(items)
        done += len(items)
        if time.monotonic() - started >= HANDOVER_AFTER and jobs_waiting_behind(lane):
            # The lane's repeating jobs (the order search, the dispatch poll) queued behind this prompt go
            # first: on a busy day notified reads and sends would otherwise starve the search for minutes.
            prompt(lane)
            return f"{done} run, handed over to the jobs waiting"
        if time.monotonic() - started >= budget:
            if WorkItem.objects.due().filter(kind__in=LANES[lane]).exists():
                prompt(lane)  # hand over, so one job never holds a worker for ever
            return f"{done} run, budget spent"


def run_batch(items):
    """Run claimed items in order, each under the advisory lock its claim took, each outcome recorded as
    it comes (a worker that dies mid-batch leaves only what had not finished). Returns the outcomes."""
    runnable = [item for item in items if item.locked]
    outcomes = [_hand_back(item) for item in items if not item.locked]
    try:
        with completions_later():  # each call's exchange completed with the next call's row: one statement
            prepare = PREPARERS.get(runnable[0].kind) if runnable else None
            if prepare is not None:
                try:
                    prepare(runnable)
                except Exception:  # each handler loads what it lacks: the batch only runs slower
                    logger.exception("preparing %d %s items failed; running them unprepared", len(runnable),
                                     runnable[0].kind)
            for position, item in enumerate(runnable, start=1):
                outcome, ok = _run_claimed(item)
                outcomes.append(outcome)
                if ok:
                    _finished(item, timezone.now(), later=position < len(runnable))
    finally:
        _unlock(runnable)
    return outcomes


def _unlock(items):
    if items:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_advisory_unlock(%s + id)) FROM unnest(%s::bigint[]) AS id",
                           [WORK_LOCK_BASE, [item.pk for item in items]])


def _hand_back(item):
    """Another session holds the item's lock: the sweeper making it due again at this very moment, or a
    run still going whose row was re-queued. Never two runs at once: hand the claim back."""
    WorkItem.objects.filter(pk=item.pk, state=WorkState.RUNNING, claimed_at=item.claimed_at).update(
        state=WorkState.RETRYING, attempts=F("attempts") - 1, next_attempt_at=timezone.now() + timedelta(seconds=1))
    return "busy elsewhere; handed back"


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
    """Run one claimed item's handler and record the outcome on its row.

    The item's advisory lock is held for the run, so `sweep` can tell a dead worker's item from a busy
    one; claim_next took it (`item.locked`), otherwise it is taken here.
    """
    if hasattr(item, "locked"):
        return run_batch([item])[0]
    with advisory_lock_id(work_lock_key(item.pk)) as held:
        if not held:
            return _hand_back(item)
        outcome, ok = _run_claimed(item)
        if ok:
            _finished(item, timezone.now())
        return outcome


def _run_claimed(item):
    """Run the handler; a failure is recorded on the row here. Returns (outcome, succeeded)."""
    func = HANDLERS[item.kind]
    try:
        with on_behalf_of(item.pk):  # each exchange the run records names this item
            result = func(item)
    except ConnectorError as exc:
        if exc.permanent:
            _dead(item, exc.message)
        else:
            _wait(item, exc.message, retry_after=exc.retry_after)
        return f"failed: {exc.message}", False
    except Exception as exc:  # a bug or an unexpected reply: kept, retried, visible with its traceback
        logger.exception("work item %s failed", item.pk)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        if item.attempts >= item.max_attempts:
            _dead(item, error)
        else:
            _reschedule(item, error, backoff_delay(item.attempts))
        return f"errored: {exc}", False
    return (result if isinstance(result, str) else "done"), True


def _finished(item, now, later=False):
    """Done, unless asked again while running: then due once more, with its attempts afresh (as
    asking again makes a finished item due). Only while the row is still this run's (see _this_run).
    One statement, written out (it runs once per item on the busiest path), which also writes the
    item's exchange completions not yet written (recorder.with_completions).

    `later` (an item with more of its batch to run): the statement goes with the next item's first
    call (recorder.write_later), a round trip saved per item. The item stays running, under its lock,
    until then; a worker killed meanwhile leaves it to run again, as one killed just before this
    statement would. An item asked again goes due unprompted: the lane's job claims again after the
    batch, and prompts when it stops with work due."""
    this_run = " AND claimed_at = %s" if item.claimed_at else ""
    sql = (f"UPDATE {WorkItem._meta.db_table} SET state = CASE WHEN rerun THEN %s ELSE %s END, "
           "done_at = CASE WHEN rerun THEN done_at ELSE %s END, "
           "next_attempt_at = CASE WHEN rerun THEN %s ELSE next_attempt_at END, "
           "attempts = CASE WHEN rerun THEN 0 ELSE attempts END, waits = CASE WHEN rerun THEN 0 ELSE waits END, "
           "rerun = false, last_error = '' "
           f"WHERE id = %s AND state = %s{this_run} RETURNING state")
    params = [WorkState.PENDING, WorkState.DONE, now, now, item.pk, WorkState.RUNNING] + (
        [item.claimed_at] if item.claimed_at else [])
    if later and not item.waits and write_later(sql, params):
        return
    row = with_completions(sql, params)
    if row is not None and row[0] == WorkState.PENDING:
        prompt(QUEUE_FOR_KIND.get(item.kind, "default"))
    if item.waits:
        _outage_over(item, now)


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
    ends as a dead letter instead of looping; and it is claimed on its own from then on (ORPHANED), so
    the items of its batch are not taken down with it again. A run whose worker is alive keeps its item however long it
    takes (every outside call has a timeout); only a lost lock (its database session ended) frees it.
    """
    candidates = WorkItem.objects.filter(state=WorkState.RUNNING, claimed_at__lt=now - ORPHAN_GRACE)
    recovered = 0
    for item in candidates.only("pk", "kind", "key", "account_id", "claimed_at", "attempts", "max_attempts")[:500]:
        with advisory_lock_id(work_lock_key(item.pk)) as free:
            if not free:
                continue  # its worker is alive and still at it
            if item.attempts >= item.max_attempts:
                _dead(item, f"worker lost while running, {item.attempts} times; giving up")
                continue
            with advisory_lock_id(lock_id(f"work-item:{item.pk}")) as free_before:
                if not free_before:
                    continue  # a worker of the release before this one (its lock key) is at it
            still = WorkItem.objects.filter(pk=item.pk, state=WorkState.RUNNING, claimed_at=item.claimed_at)
            recovered += still.update(state=WorkState.RETRYING, next_attempt_at=now, rerun=False,
                                      last_error=ORPHANED)
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
        missing = due - queued_prompts(lane)
        if missing > 0:
            prompt(lane, missing)
            prompted += missing
    return prompted
