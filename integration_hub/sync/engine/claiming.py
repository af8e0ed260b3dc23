"""Claiming work: the most urgent due rows of a lane, marked running and locked in one statement."""

import logging
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from integration_hub.sync.choices import LANES, WorkState
from integration_hub.sync.models import WorkItem

logger = logging.getLogger(__name__)

# kind -> how many due items of one account a claim may take at once: an int or function(head item) -> int.
BATCH_SIZES = {}
WORK_LOCK_BASE = -(2**62)  # far from the hashed keys of named locks (sync.locks.lock_id)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
# Work with less than this left before its ship-by is treated as already late when claiming: by the
# time its call has waited for quota and landed, it would be (measured with bench_burst).
CLAIM_LEAD = timedelta(seconds=1)
# The last error of an item whose worker died while running it: it is claimed on its own, never in a batch.
ORPHANED = "its worker died while running it; due again"


def work_lock_key(pk):
    """The advisory lock a worker holds while it runs work item `pk`."""
    return WORK_LOCK_BASE + int(pk)


# Work already past its ship-by is late whatever happens, so it goes after the work that can still be on
# time (with Amazon's quota as the bottleneck this keeps the count of late orders, what Late Shipment Rate
# counts, lowest); undated work goes last. Within a band: WorkItem.URGENCY.
_BANDS = ("priority_at >= %(cut)s", "priority_at < %(cut)s", "priority_at IS NULL")
_ORDER = "priority_at ASC NULLS LAST, is_prime DESC, recency DESC, next_attempt_at ASC, id ASC"


def _due_sql(kinds, band, limit, accounts=None, kind_account=None):
    """SELECT of the ids of due items of `kinds` in a band, most urgent first, rows locked and skipped if
    another worker holds them. Written out so the claim is one statement (claim_next)."""
    names = ", ".join(f"%(kind{n})s" for n in range(len(kinds)))
    where = [f"state IN ('{WorkState.PENDING}', '{WorkState.RETRYING}')", f"kind IN ({names})",
             "next_attempt_at <= %(now)s", "attempts < max_attempts", _BANDS[band]]
    if accounts is not None:
        where.append("account_id = ANY(%(accounts)s::bigint[])")
    if kind_account is not None:
        where.append("account_id = %(account)s" if kind_account[1] is not None else "account_id IS NULL")
        where.append("last_error <> %(orphaned)s")  # one that took its worker down runs alone
    return (f"SELECT id FROM {WorkItem._meta.db_table} WHERE {' AND '.join(where)} ORDER BY {_ORDER} "
            f"LIMIT {int(limit)} FOR UPDATE SKIP LOCKED")


def _claim(where_id, params):
    table = WorkItem._meta.db_table
    sql = (f"UPDATE {table} SET state = '{WorkState.RUNNING}', attempts = attempts + 1, claimed_at = %(now)s "
           f"WHERE {where_id} RETURNING {table}.*, pg_try_advisory_lock(%(lock_base)s + {table}.id) AS locked")
    return list(WorkItem.objects.raw(sql, {**params, "lock_base": WORK_LOCK_BASE}))


def claim_next(lane, now=None, accounts=None):
    """Claim the most urgent due item of a lane (of some accounts only, for `sync`), or None.

    One statement: the row is marked running and its advisory lock taken (`item.locked`); concurrent
    workers skip each other's rows.
    """
    now = now or timezone.now()
    kinds = list(LANES[lane])
    params = {"now": now, "cut": now + CLAIM_LEAD, **{f"kind{n}": kind for n, kind in enumerate(kinds)}}
    if accounts is not None:
        params["accounts"] = [getattr(account, "pk", account) for account in accounts]
    bands = ", ".join(f"({_due_sql(kinds, band, 1, accounts)})" for band in range(len(_BANDS)))
    claimed = _claim(f"id = COALESCE({bands})", params)
    return claimed[0] if claimed else None


def claim_batch(lane, now=None):
    """Claim the lane's most urgent due item and, if its kind runs in batches, the next due items of the
    same kind, account and band, up to the kind's batch size; in urgency order. [] when nothing is due."""
    now = now or timezone.now()
    head = claim_next(lane, now)
    if head is None:
        return []
    size = BATCH_SIZES.get(head.kind, 1)
    size = size(head) if callable(size) else size
    if size <= 1:
        return [head]
    cut = now + CLAIM_LEAD
    band = 2 if head.priority_at is None else (0 if head.priority_at >= cut else 1)
    if head.last_error == ORPHANED:
        return [head]
    params = {"now": now, "cut": cut, "kind0": head.kind, "account": head.account_id, "orphaned": ORPHANED}
    # = ANY(ARRAY(...)): the locking subquery runs once (an IN could be rescanned and claim more than asked).
    due = _due_sql([head.kind], band, size - 1, kind_account=(head.kind, head.account_id))
    more = _claim(f"id = ANY(ARRAY({due}))", params)
    return [head, *sorted(more, key=_urgency)]


def _urgency(item):
    return (item.priority_at is None, item.priority_at or _EARLIEST, not item.is_prime, item.next_attempt_at,
            item.pk)


