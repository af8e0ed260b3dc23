from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq import SimpleWorker

from integration_hub.sync import scheduler
from integration_hub.sync.models import Schedule

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def counter(monkeypatch):
    runs = []

    def job():
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("back office down")

    monkeypatch.setitem(scheduler.REPEATING, "test.job", (job, 60, "default"))
    return runs


def test_due_jobs_are_enqueued_once_per_interval_and_their_outcome_recorded(counter):
    now = timezone.now()
    assert "test.job" in scheduler.tick(now)
    assert "test.job" not in scheduler.tick(now + timedelta(seconds=30))
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    row = Schedule.objects.get(name="test.job")
    assert counter == [1] and row.last_success_at and row.consecutive_failures == 0

    assert "test.job" in scheduler.tick(now + timedelta(seconds=61))
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)
    row.refresh_from_db()
    assert row.consecutive_failures == 1 and "back office down" in row.last_error


def test_disabled_schedule_is_not_enqueued(counter):
    scheduler.tick()
    Schedule.objects.filter(name="test.job").update(enabled=False, last_run_at=None)
    assert "test.job" not in scheduler.tick(timezone.now() + timedelta(hours=1))
