"""Queueing work: rows in Postgres, prompts in RQ (see the package docstring)."""

import logging
import random
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from integration_hub.sync.choices import QUEUE_FOR_KIND, WorkState
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

# The count of queued prompts expires after this long without a new prompt, so it cannot stay wrong.
PROMPT_COUNT_TTL = 300
# What a prompt runs (by name: the running module prompts too), and what prompts queued by the release
# before this one run (the engine was one module then; the name still resolves).
RUN_NEXT = "integration_hub.sync.engine.running.run_next"
PROMPTS = (RUN_NEXT, "integration_hub.sync.engine.run_next")


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


_queues = {}


def queue_for(lane):
    """The RQ queue of a lane, one per process (not a new Redis connection per enqueue)."""
    if lane not in _queues:
        _queues[lane] = django_rq.get_queue(lane)
    return _queues[lane]


def submit(kind, key, *, account=None, payload=None, reset=False, priority_at=None, is_prime=False, recency=0):
    """Create the work item for (kind, key) unless it exists, and prompt its lane after commit.

    `priority_at` is the business time the work must beat (the order's ship-by); with reset=True a
    finished or dead item is made due again (a re-fetch, a new dispatch). `recency` breaks ties after
    Prime, higher first (WorkItem.URGENCY); a waiting item asked again takes the new one.
    """
    now = timezone.now()
    urgency = {"priority_at": priority_at, "is_prime": is_prime, "deadline": deadline_for(priority_at, now),
               "recency": recency}
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
    once; with reset=True any that exists already goes through submit() on its own (asked again), without
    it an existing one is left as it is (prompted if due)."""
    if not items:
        return
    now = timezone.now()
    existing = dict(WorkItem.objects.filter(kind=kind, key__any=[str(item["key"]) for item in items])
                    .values_list("key", "state"))
    fresh = [WorkItem(kind=kind, key=str(item["key"]), account=item.get("account"), payload=item.get("payload") or {},
                      priority_at=item.get("priority_at"), is_prime=item.get("is_prime", False),
                      deadline=deadline_for(item.get("priority_at"), now), next_attempt_at=now)
             for item in items if str(item["key"]) not in existing]
    WorkItem.objects.bulk_create(fresh, ignore_conflicts=True)  # one created meanwhile is as good as ours
    if reset:
        for item in items:
            if str(item["key"]) in existing:
                submit(kind, **item, reset=True)
    waiting = any(state in (WorkState.PENDING, WorkState.RETRYING) for state in existing.values())
    if fresh or (waiting and not reset):
        prompt(QUEUE_FOR_KIND.get(kind, "default"), max(1, len(fresh)))


def _ask_again(item, now, urgency, payload):
    """Make existing work run (again) with fresh data: a finished or dead item becomes due, a waiting one
    due now, and a running one runs once more when it ends (what it read may predate the request).
    Each step is one conditional UPDATE; if the state moved in between, the next step catches it."""
    rows = WorkItem.objects.filter(pk=item.pk)
    fresh = {"payload": payload} if payload is not None else {}
    if urgency["recency"]:
        fresh["recency"] = urgency["recency"]
    for _ in range(5):
        if rows.filter(state__in=[WorkState.DONE, WorkState.DEAD]).update(
                state=WorkState.PENDING, attempts=0, waits=0, next_attempt_at=now, last_error="", dead_at=None,
                rerun=False, **{**urgency, **fresh}):
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
                queue.enqueue(RUN_NEXT, lane, job_timeout=600)
        except RedisError as exc:  # the row is in Postgres: the sweeper prompts the lane when Redis is back
            logger.warning("could not prompt the %s lane (%s); the sweeper will", lane, exc)

    transaction.on_commit(send)


def _prompt_taken(lane):
    redis = queue_for(lane).connection
    if redis.decr(_prompt_key(lane)) < 0:
        redis.set(_prompt_key(lane), 0, ex=PROMPT_COUNT_TTL)


def queued_prompts(lane):
    """Prompts waiting in the lane's queue: the counter, corrected if prompts were deleted from the queue
    by hand (django-rq)."""
    queue = queue_for(lane)
    queued = int(queue.connection.get(_prompt_key(lane)) or 0)
    if queued > queue.count:
        queued = queue.count
        queue.connection.set(_prompt_key(lane), queued, ex=PROMPT_COUNT_TTL)
    return queued


def jobs_waiting_behind(lane, look=20):
    """Whether a job other than a prompt (one of the lane's repeating jobs) waits in the lane's queue,
    among the first `look`: two Redis round trips, whatever the prompt counter says."""
    queue = queue_for(lane)
    try:
        ids = queue.get_job_ids(0, look - 1)
        if not ids:
            return False
        pipe = queue.connection.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(queue.job_class.key_for(job_id), "description")
        return any(description and not description.decode().startswith(PROMPTS) for description in pipe.execute())
    except RedisError:
        return False


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


