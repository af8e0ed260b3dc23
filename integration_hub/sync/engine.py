"""The sync engine: work items in Postgres, carried by RQ, run by one runner.

    @handler(WorkKind.CONFIRM_SHIPMENT)
    def confirm_shipment(item): ...        # raise ConnectorError on failure, return on success

    submit(WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk), account=order.account)

A handler may run twice (RQ redelivers, the sweeper re-enqueues): it must be idempotent.
Two layers of retry: the connector's quick tries inside a call, then the item's own schedule
(`backoff_delay`), each attempt a row in the exchange log. A permanent error, or a transient
one past `max_attempts`, makes the item a dead letter that an admin can retry with one click.
"""

import logging
import random
import traceback
from datetime import timedelta

import django_rq
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors.base import ConnectorError, ThrottledError
from integration_hub.sync.choices import QUEUE_FOR_KIND, WorkState
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

HANDLERS = {}
# A running item not finished after this long is considered lost (worker killed) and re-run.
STALE_AFTER = timedelta(minutes=15)


def handler(kind):
    def decorate(func):
        HANDLERS[kind] = func
        return func

    return decorate


def backoff_delay(attempts, base=10, cap=3600):
    """Exponential back-off with full jitter: up to base * 2^(attempts-1) seconds, capped."""
    return timedelta(seconds=random.uniform(base / 2, min(cap, base * 2 ** max(0, attempts - 1))))


def submit(kind, key, *, account=None, payload=None, reset=False):
    """Create the work item for (kind, key) unless it exists, and enqueue it after commit.

    With reset=True a finished or dead item is made due again (a re-fetch, a new dispatch).
    """
    item, created = WorkItem.objects.get_or_create(
        kind=kind, key=str(key), defaults={"account": account, "payload": payload or {}}
    )
    if not created and reset and item.state in (WorkState.DONE, WorkState.DEAD):
        WorkItem.objects.filter(pk=item.pk).update(
            state=WorkState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="",
            payload=payload if payload is not None else item.payload,
        )
        item.refresh_from_db()
    if item.state in (WorkState.PENDING, WorkState.RETRYING):
        enqueue(item)
    return item


def enqueue(item):
    queue = django_rq.get_queue(QUEUE_FOR_KIND.get(item.kind, "default"))
    transaction.on_commit(lambda: queue.enqueue(run_work_item, item.pk, job_timeout=600))


def retry(item):
    """An admin's one-click retry of a dead letter."""
    updated = WorkItem.objects.filter(pk=item.pk, state=WorkState.DEAD).update(
        state=WorkState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    if updated:
        item.refresh_from_db()
        enqueue(item)
    return bool(updated)


def run_work_item(pk):
    """The RQ job. Claims the row with a compare-and-swap so two workers never run one item."""
    now = timezone.now()
    claimed = WorkItem.objects.due(now).filter(pk=pk, attempts__lt=F("max_attempts")).update(
        state=WorkState.RUNNING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return "not due or taken by another worker"
    item = WorkItem.objects.get(pk=pk)
    func = HANDLERS[item.kind]
    try:
        func(item)
    except ConnectorError as exc:
        _failed(item, exc.message, permanent=exc.permanent, throttled=isinstance(exc, ThrottledError))
        return f"failed: {exc.message}"
    except Exception as exc:  # a bug or an unexpected reply: kept, retried, visible with its traceback
        logger.exception("work item %s failed", item.pk)
        _failed(item, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}", permanent=False)
        return f"errored: {exc}"
    WorkItem.objects.filter(pk=pk, state=WorkState.RUNNING).update(
        state=WorkState.DONE, done_at=timezone.now(), last_error=""
    )
    return "done"


def _failed(item, error, *, permanent, throttled=False):
    exhausted = item.attempts >= item.max_attempts and not throttled
    if permanent or exhausted:
        WorkItem.objects.filter(pk=item.pk).update(state=WorkState.DEAD, last_error=error)
        on_dead = DEAD_LETTER_HOOKS.get(item.kind)
        if on_dead:
            on_dead(item, error)
        return
    if throttled:
        # A 429 is not the item's fault: it waits for quota without using up its attempts.
        WorkItem.objects.filter(pk=item.pk).update(attempts=F("attempts") - 1)
    delay = backoff_delay(item.attempts)
    WorkItem.objects.filter(pk=item.pk).update(
        state=WorkState.RETRYING, last_error=error, next_attempt_at=timezone.now() + delay
    )


# kind -> function(item, error) called when an item becomes a dead letter (e.g. mark the shipment failed).
DEAD_LETTER_HOOKS = {}


def sweep():
    """Re-enqueue due items and recover items whose worker died. Runs every minute from the scheduler.

    This is why losing Redis loses no work: the table is the record, the queue only a prompt.
    """
    now = timezone.now()
    stale = WorkItem.objects.filter(state=WorkState.RUNNING, claimed_at__lt=now - STALE_AFTER)
    # An item whose worker dies on every try (job timeout, out of memory) must still end as a
    # visible dead letter instead of being re-run for ever.
    for item in stale.filter(attempts__gte=F("max_attempts")):
        _failed(item, f"worker lost while running, {item.attempts} times; giving up", permanent=True)
    stale.filter(attempts__lt=F("max_attempts")).update(
        state=WorkState.RETRYING, next_attempt_at=now, last_error="worker lost while running; re-queued"
    )
    due = list(WorkItem.objects.due(now).only("pk", "kind")[:5000])
    for item in due:
        django_rq.get_queue(QUEUE_FOR_KIND.get(item.kind, "default")).enqueue(run_work_item, item.pk)
    return len(due)
