"""The sync engine: work items in Postgres, carried by RQ, run by one runner.

    @handler(WorkKind.CONFIRM_SHIPMENT)
    def confirm_shipment(item): ...        # raise ConnectorError on failure, return on success

    submit(WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk), account=order.account,
           priority_at=order.latest_ship_date, is_prime=order.is_prime)

The table decides what runs next, not the queue: an RQ job is only a prompt for a lane
(`run_next`), and the worker claims the most urgent due row of that lane (earliest ship-by, Prime
first on ties) with `FOR UPDATE SKIP LOCKED`, in one statement that also takes the row's advisory
lock. Kinds that run at volume claim a batch (the next due items of the same kind and account) and
load what the batch needs at once (see `handler`). A handler may still run twice (a worker killed
after the call, the sweeper recovering it): it must be idempotent.

Two layers of retry: the connector's quick tries inside a call, then the item's own schedule.
A transient failure (5xx, timeout, 429, open circuit) waits and costs no attempt: the item gives
up only at its deadline (the business clock: never before the order's ship-by, at least
WORK_MAX_AGE after it was queued). A permanent error, a deadline passed, or an unexpected error
(a bug) repeated `max_attempts` times makes the item a dead letter that an admin can retry.
When an item that had been waiting succeeds, the outage is over: the others waiting in its lane
for the same account are made due at once and drain most urgent first.
"""

from integration_hub.sync.engine.claiming import (  # noqa: F401
    BATCH_SIZES,
    CLAIM_LEAD,
    WORK_LOCK_BASE,
    claim_batch,
    claim_next,
    work_lock_key,
)
from integration_hub.sync.engine.queueing import (  # noqa: F401
    PROMPT_COUNT_TTL,
    backoff_delay,
    deadline_for,
    enqueue,
    prompt,
    queue_for,
    replay,
    retry,
    submit,
    submit_many,
)
from integration_hub.sync.engine.running import (  # noqa: F401
    DEAD_LETTER_HOOKS,
    HANDLERS,
    LANE_BUDGET_SECONDS,
    ORPHAN_GRACE,
    PREPARERS,
    _dead,
    handler,
    recover_orphans,
    run_batch,
    run_claimed,
    run_next,
    run_work_item,
    sweep,
)
from integration_hub.sync.locks import advisory_lock_id  # noqa: F401
