"""The one wrapper every call to an outside system goes through: one exchange row per attempt.

    with record(System.AMAZON, "confirmShipment", account=acct, correlation_id=order_id,
                request=body, attempt=n) as call:
        response = client.confirm_shipment(...)
        call.done(status=204, response=response.payload, quota=response.rate_limit)

The row is saved before the call and completed after, so a crash mid-call leaves a visible
"in flight" row. Never open a database transaction around a network call: a rollback would
erase the row.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.exchanges.choices import Direction, Outcome
from integration_hub.exchanges.models import Exchange
from integration_hub.exchanges.redact import redact_error, summarise

# The work item (id) whose run makes the calls, set by the sync engine: an exchange names its unit of work,
# so a failed call can be replayed from the exchange log once its cause is fixed.
_work_item = ContextVar("work_item", default=None)


@contextmanager
def on_behalf_of(work_item_id):
    token = _work_item.set(work_item_id)
    try:
        yield
    finally:
        _work_item.reset(token)


class Call:
    def __init__(self, row):
        self.row = row
        self._started = time.monotonic()
        self._completed = False

    def done(self, status=None, response=None, quota=""):
        self._finish(Outcome.OK, status=status, response=response, quota=quota)

    def failed(self, error, status=None, response=None, permanent=False, quota=""):
        outcome = Outcome.PERMANENT if permanent else Outcome.TRANSIENT
        self._finish(outcome, status=status, response=response, error=str(error), quota=quota)

    def _finish(self, outcome, status=None, response=None, error="", quota=""):
        row = self.row
        row.outcome = outcome
        row.http_status = status
        row.response_summary = summarise(response)
        row.error = redact_error(error)[:2000]
        row.quota_limit = str(quota or "")[:40]
        row.latency_ms = int((time.monotonic() - self._started) * 1000)
        row.finished_at = timezone.now()
        row.save(update_fields=[
            "outcome", "http_status", "response_summary", "error", "quota_limit", "latency_ms", "finished_at",
        ])
        self._completed = True


@contextmanager
def record(system, operation, *, account=None, connection=None, correlation_id="", request=None,
           attempt=1, direction=Direction.OUTBOUND):
    row = Exchange.objects.create(
        system=system,
        operation=operation,
        direction=direction,
        account=account,
        connection=connection,
        correlation_id=str(correlation_id)[:200],
        request_summary=summarise(request),
        attempt=attempt,
        work_item_id=_work_item.get(),
    )
    call = Call(row)
    try:
        yield call
    except ConnectorError as exc:
        if not call._completed:
            call.failed(exc.message, status=exc.status, permanent=exc.permanent)
        raise
    except Exception as exc:
        if not call._completed:
            call.failed(f"{type(exc).__name__}: {exc}")
        raise
    else:
        if not call._completed:
            call.done()
