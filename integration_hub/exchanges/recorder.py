"""The one wrapper every call to an outside system goes through: one exchange row per attempt.

    with record(System.AMAZON, "confirmShipment", account=acct, correlation_id=order_id,
                request=body, attempt=n) as call:
        response = client.confirm_shipment(...)
        call.done(status=204, response=response.payload, quota=response.rate_limit)

The row is saved before the call and completed after, so a crash mid-call leaves a visible
"in flight" row. Never open a database transaction around a network call: a rollback would
erase the row.

Within `completions_later()` (a worker's batch of work items) a completion is not written on its
own: it goes with the next call's in-flight row, or with the statement that finishes the work item
(`with_completions`), one statement for both, or when the batch ends. So an item is never marked
done before its calls' outcomes are written; a worker killed between a call and the next statement
leaves that row in flight, and the item, not yet done, runs again. The engine's statement that
finishes an item may wait the same way (`write_later`) and go with the next item's first call.
"""

import functools
import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connection
from django.utils import timezone

from connectors.base import ConnectorError
from integration_hub.exchanges.choices import Direction, Outcome
from integration_hub.exchanges.models import Exchange
from integration_hub.exchanges.redact import redact_error, summarise

logger = logging.getLogger(__name__)

# The work item (id) whose run makes the calls, set by the sync engine: an exchange names its unit of work,
# so a failed call can be replayed from the exchange log once its cause is fixed.
_work_item = ContextVar("work_item", default=None)
# The calls completed but not yet written, inside completions_later(); None outside it.
_unwritten = ContextVar("unwritten_completions", default=None)
# Statements (sql, params) to write with the next one (write_later), inside completions_later().
_deferred = ContextVar("deferred_statements", default=None)
# How many transactions were open when completions_later() began: none is written inside a deeper one.
_depth = ContextVar("transaction_depth", default=0)
# The columns a completion writes, with their types in the VALUES list of one UPDATE for many rows.
_COMPLETION_TYPES = {"outcome": "text", "http_status": "integer", "response_summary": "text", "error": "text",
                     "quota_limit": "text", "latency_ms": "integer", "finished_at": "timestamptz"}
COMPLETION_FIELDS = tuple(_COMPLETION_TYPES)


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
        unwritten = _unwritten.get()
        if unwritten is None:
            row.save(update_fields=COMPLETION_FIELDS)
        else:
            unwritten.append(row)
        self._completed = True


@contextmanager
def completions_later():
    """Write each completion with the next call's in-flight row, and the rest at the end (see above)."""
    unwritten, deferred = [], []
    tokens = _unwritten.set(unwritten), _deferred.set(deferred), _depth.set(len(connection.atomic_blocks))
    try:
        yield
    finally:
        _unwritten.reset(tokens[0])
        _deferred.reset(tokens[1])
        _depth.reset(tokens[2])
        if unwritten or deferred:
            _write_alone(unwritten, deferred)


def write_later(sql, params):
    """Inside completions_later(), keep `sql` (one UPDATE or INSERT, positional parameters) to go with the
    next statement written through with_completions, or with the batch's end, and return True; outside
    it, return False (the caller runs it now). It runs in that statement's snapshot: it must not depend
    on what that statement changes, and its RETURNING is not read."""
    deferred = _deferred.get()
    if deferred is None:
        return False
    deferred.append((sql, list(params)))
    return True


def _completions_sql(rows):
    """UPDATE of the completions of `rows` in one statement: (sql, params)."""
    table = Exchange._meta.db_table
    fields = [Exchange._meta.get_field(name) for name in COMPLETION_FIELDS]
    values = ", ".join("(%s::bigint, " + ", ".join(f"%s::{kind}" for kind in _COMPLETION_TYPES.values()) + ")"
                       for _ in rows)
    params = []
    for row in rows:
        params += [row.pk, *(field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields)]
    columns = ", ".join(COMPLETION_FIELDS)
    sets = ", ".join(f"{name} = done.{name}" for name in COMPLETION_FIELDS)
    return (f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS done (id, {columns}) WHERE {table}.id = done.id",
            params)


def _pending(unwritten, deferred):
    """The completions and deferred statements as WITH clauses: (clauses, params)."""
    clauses, params = [], []
    if unwritten:
        update, update_params = _completions_sql(unwritten)
        clauses.append(f"done AS ({update} RETURNING 1)")
        params += update_params
    for n, (later, later_params) in enumerate(deferred or ()):
        clauses.append(f"later{n} AS ({later})")
        params += later_params
    return clauses, params


def with_completions(sql, params):
    """Run `sql` (positional parameters) in one statement with the completions not yet written and the
    statements kept by write_later (completions_later), and return its first row. If the statement
    fails, those are written on their own (or, failing that, left unwritten with a log line) and `sql` is
    run alone: one bad completion never blocks the calls and the work that follow."""
    unwritten, deferred = _unwritten.get(), _deferred.get()
    with connection.cursor() as cursor:
        # Never inside a transaction opened since the batch began: its rollback would take back what was
        # written with it, already dropped from the lists. They wait for the next statement outside it.
        if (unwritten or deferred) and len(connection.atomic_blocks) <= _depth.get():
            clauses, pending_params = _pending(unwritten, deferred)
            try:
                cursor.execute(f"WITH {', '.join(clauses)} {sql}", pending_params + list(params))
            except DatabaseError as exc:
                logger.warning("writing %d exchange completions and %d statements with the next statement "
                               "failed (%s); writing them alone", len(unwritten or ()), len(deferred or ()), exc)
                _write_alone(unwritten, deferred)
            else:
                unwritten.clear()
                deferred.clear()
                return cursor.fetchone()
        cursor.execute(sql, params)
        return cursor.fetchone()


def _write_alone(unwritten, deferred=()):
    """The completions in one statement, then each deferred statement; each failure is logged and the rest
    still written (a completion left unwritten stays in flight; a work item not finished runs again)."""
    if unwritten:
        try:
            with connection.cursor() as cursor:
                cursor.execute(*_completions_sql(unwritten))
        except DatabaseError:
            logger.exception("%d exchange completions could not be written; those rows stay in flight",
                             len(unwritten))
        unwritten.clear()
    for sql, params in deferred:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        except DatabaseError:
            logger.exception("a statement kept to write later could not be written: %s", sql[:200])
    if deferred:
        deferred.clear()


@functools.cache
def _insert_sql():
    """The in-flight row's INSERT and its fields (built once: it runs before every outside call)."""
    fields = [field for field in Exchange._meta.concrete_fields if not field.primary_key]
    sql = (f"INSERT INTO {Exchange._meta.db_table} ({', '.join(field.column for field in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id")
    return sql, fields


def _insert(row):
    """Save the in-flight row, written out (Model.save costs more than the statement); completions not yet
    written go in the same statement."""
    sql, fields = _insert_sql()
    row.pk = with_completions(sql, [field.get_db_prep_save(field.pre_save(row, True), connection)
                                    for field in fields])[0]
    row._state.adding = False


@contextmanager
def record(system, operation, *, account=None, connection=None, correlation_id="", request=None,
           attempt=1, direction=Direction.OUTBOUND):
    row = Exchange(
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
    _insert(row)
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
