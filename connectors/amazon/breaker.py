"""A circuit breaker per seller account and API, kept in `connectors.CircuitState` for the dashboard.

Closed: calls go through; after THRESHOLD transient failures in a row it opens. Open: calls are
refused at once until COOL_DOWN has passed; then one caller wins the compare-and-swap to half-open
and probes. The probe's success closes the circuit, its failure opens it again.

A closed reading holds in this process for FRESH seconds, so a worker confirming a hundred packages
a second reads the row once a second instead of before every call. The cost: a circuit another
worker opened is seen up to FRESH later here, and the calls made meanwhile fail as the ones that
opened it did (transient: the work waits, no attempt is used). A failure here drops the reading at once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from connectors.base import ConnectorError
from connectors.models import CircuitState

logger = logging.getLogger(__name__)
State = CircuitState.State


class CircuitOpenError(ConnectorError):
    """Refused without calling Amazon: the circuit for this API is open."""

    def __init__(self, account, api, retry_in):
        super().__init__(
            f"circuit open for {api} of {account}: Amazon failed repeatedly; next probe in {retry_in:.0f}s",
            permanent=False, code="CircuitOpen", retry_after=retry_in,
        )


class CircuitBreaker:
    """Guards one API (orders, feeds, listings, reports, tokens) of one seller account."""

    THRESHOLD = 5
    COOL_DOWN = timedelta(seconds=settings.CIRCUIT_COOL_DOWN_SECONDS)
    FRESH = 1.0  # seconds a closed reading holds in this process (see above)

    def __init__(self, account, api):
        self.account = account
        self.api = api
        self._row = None
        self._closed_until = 0.0  # time.monotonic() until which the last closed reading holds

    def _state(self):
        """The row as it stands now: read before every call, so it is one plain SELECT."""
        if self._row is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT state, consecutive_failures, opened_at, updated_at FROM "
                               f"{CircuitState._meta.db_table} WHERE id = %s", [self._row.pk])
                found = cursor.fetchone()
            if found is not None:
                row = self._row
                row.state, row.consecutive_failures, row.opened_at, row.updated_at = found
                return row
            # deleted by an admin: start again closed
        self._row, _ = CircuitState.objects.get_or_create(account_id=self.account.pk, connection=None, api=self.api)
        return self._row

    def _rows(self):
        return CircuitState.objects.filter(pk=self._row.pk)

    def before_call(self):
        """Return if the call may go ahead, else raise CircuitOpenError."""
        if time.monotonic() < self._closed_until:
            return
        row = self._state()
        if row.state == State.CLOSED:
            self._closed_until = time.monotonic() + self.FRESH
            return
        now = timezone.now()
        since = row.opened_at if row.state == State.OPEN else row.updated_at
        if since and now - since >= self.COOL_DOWN:
            # One probe at a time: only the caller whose update lands goes ahead. A half-open
            # circuit whose probe never reported back (worker killed) is probed again.
            won = self._rows().filter(state=row.state, updated_at=row.updated_at).update(
                state=State.HALF_OPEN, updated_at=now
            )
            if won:
                logger.info("circuit %s/%s half-open: probing", self.account, self.api)
                return
        retry_in = (self.COOL_DOWN - (now - since)).total_seconds() if since else self.COOL_DOWN.total_seconds()
        raise CircuitOpenError(self.account, self.api, max(0.0, retry_in))

    def succeeded(self):
        row = self._row
        if row is not None and row.state == State.CLOSED and row.consecutive_failures == 0:
            return
        changed = self._rows().exclude(state=State.CLOSED, consecutive_failures=0).update(
            state=State.CLOSED, consecutive_failures=0, opened_at=None, updated_at=timezone.now()
        )
        if row is not None:  # as the row now stands: the next success in FRESH writes nothing
            row.state, row.consecutive_failures = State.CLOSED, 0
        if changed:
            logger.info("circuit %s/%s closed", self.account, self.api)

    def failed(self):
        """A transient failure (5xx, timeout, connection): count it and open the circuit when due."""
        self._closed_until = 0.0
        now = timezone.now()
        rows = self._rows()
        rows.update(consecutive_failures=F("consecutive_failures") + 1, updated_at=now)
        opened = rows.filter(state=State.HALF_OPEN).update(state=State.OPEN, opened_at=now)
        opened += rows.filter(state=State.CLOSED, consecutive_failures__gte=self.THRESHOLD).update(
            state=State.OPEN, opened_at=now
        )
        if opened:
            logger.warning("circuit %s/%s opened after repeated failures", self.account, self.api)
