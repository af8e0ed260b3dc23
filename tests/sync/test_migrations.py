"""Data migrations of the sync app, run forward from the state before them."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integration_hub.orders.intake import OLDEST_FIRST

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sync", "0006_work_recency")]
AFTER = [("sync", "0007_work_recency_oldest_first")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_waiting_notified_reads_are_ranked_oldest_change_first_after_the_upgrade():
    """Reads queued before the upgrade kept the old ranking (latest change in epoch seconds, newest first), so
    the oldest waited behind every new read and held back where getOrder's reads stand."""
    apps = migrate(BEFORE)
    try:
        work = apps.get_model("sync", "WorkItem")
        first = dt.datetime(2026, 11, 25, 1, 0, 0, 123000, tzinfo=dt.UTC)
        latest = first + dt.timedelta(minutes=3)
        payload = {"changed_at": latest.isoformat(), "first_changed_at": first.isoformat()}
        waiting = work.objects.create(kind="import_order", key="1:waiting", state="pending", payload=payload,
                                      recency=int(latest.timestamp()))
        done = work.objects.create(kind="import_order", key="1:done", state="done", payload=payload, recency=7)
        plain = work.objects.create(kind="import_order", key="1:plain", state="pending", payload={}, recency=0)
        send = work.objects.create(kind="send_order", key="1:send", state="pending", payload={}, recency=0)
        apps = migrate(AFTER)
        work = apps.get_model("sync", "WorkItem")
        ranks = dict(work.objects.values_list("pk", "recency"))
        assert ranks[waiting.pk] == OLDEST_FIRST - int(first.timestamp() * 1000)
        assert (ranks[done.pk], ranks[plain.pk], ranks[send.pk]) == (7, 0, 0)  # finished or not notified: as they were
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
