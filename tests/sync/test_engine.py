import django_rq
import pytest
from django.db.models import F
from django.utils import timezone
from rq import SimpleWorker

from connectors.base import ConnectorError, ThrottledError
from integration_hub.sync import engine
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker(*queues):
    worker = django_rq.get_worker(*(queues or ("orders", "shipments", "stock", "finance", "default")),
                                  worker_class=SimpleWorker)
    worker.work(burst=True)


@pytest.fixture
def calls(monkeypatch):
    """Installs a handler for IMPORT_ORDER whose behaviour each test scripts."""
    seen = []
    script = []

    def handle(item):
        seen.append(item.key)
        if script:
            outcome = script.pop(0)
            if outcome:
                raise outcome

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    monkeypatch.setitem(engine.DEAD_LETTER_HOOKS, WorkKind.IMPORT_ORDER, lambda item, error: seen.append("dead"))
    return seen, script


def make_due(item):
    WorkItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())


def test_submitted_work_runs_once_through_a_real_worker(calls):
    seen, _ = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "1:202-0000001-0000001")
    again = engine.submit(WorkKind.IMPORT_ORDER, "1:202-0000001-0000001")
    assert again.pk == item.pk
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and item.attempts == 1
    assert seen == ["1:202-0000001-0000001"]


def test_transient_failure_is_retried_later_and_then_succeeds(calls):
    seen, script = calls
    script.append(ConnectorError("503 from Amazon", permanent=False))
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.RETRYING and "503" in item.last_error
    assert item.next_attempt_at > timezone.now()
    make_due(item)
    assert engine.sweep() == 1  # the sweeper, not Redis, knows the item is due again
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and item.attempts == 2


def test_permanent_failure_is_a_dead_letter_that_an_admin_retries(calls):
    seen, script = calls
    script.append(ConnectorError("400 InvalidInput: bad carrier", permanent=True))
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and "bad carrier" in item.last_error
    assert seen == ["k", "dead"]
    assert engine.retry(item)
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE


def test_throttling_waits_without_using_up_attempts(calls):
    _, script = calls
    script.extend([ThrottledError(), ThrottledError()])
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    for _ in range(2):
        run_worker()
        item.refresh_from_db()
        assert item.state == WorkState.RETRYING and item.attempts == 0
        make_due(item)
        engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE


def test_exhausted_retries_become_a_dead_letter(calls):
    _, script = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(max_attempts=2)
    script.extend([ConnectorError("timeout", permanent=False)] * 2)
    run_worker()
    make_due(item)
    engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and item.attempts == 2


def test_work_survives_losing_redis(calls):
    seen, _ = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    django_rq.get_connection("default").flushdb()  # Redis lost with the queued job
    run_worker()
    assert seen == []
    engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and seen == ["k"]


def test_a_job_for_work_already_claimed_does_nothing(calls):
    seen, _ = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(state=WorkState.RUNNING, claimed_at=timezone.now())
    assert engine.run_work_item(item.pk) == "not due or taken by another worker"
    assert seen == []


def test_a_worker_lost_mid_run_is_recovered_by_the_sweeper(calls):
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(
        state=WorkState.RUNNING, claimed_at=timezone.now() - engine.STALE_AFTER * 2)
    engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE


def test_unexpected_errors_are_kept_with_their_traceback(calls):
    _, script = calls
    script.append(KeyError("LatestShipDate"))
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.RETRYING
    assert "KeyError" in item.last_error and "Traceback" in item.last_error


def test_work_whose_worker_dies_every_time_ends_as_a_dead_letter(calls):
    seen, _ = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(max_attempts=3)
    for _ in range(3):  # each run is claimed, then the worker is killed before it finishes
        assert WorkItem.objects.due().filter(pk=item.pk).update(
            state=WorkState.RUNNING, attempts=F("attempts") + 1,
            claimed_at=timezone.now() - engine.STALE_AFTER * 2)
        engine.sweep()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD
    assert "worker lost while running, 3 times" in item.last_error
    assert seen == ["dead"]  # the dead-letter hook ran (e.g. the shipment is marked failed)
    assert engine.run_work_item(item.pk) == "not due or taken by another worker"
