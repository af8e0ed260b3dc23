import contextlib
from datetime import timedelta

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
    assert (item.attempts, item.waits) == (0, 1)  # a transient failure costs no attempt
    assert item.next_attempt_at > timezone.now()
    make_due(item)
    assert engine.sweep() == 1  # the sweeper, not Redis, knows the item is due again
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and (item.attempts, item.waits) == (1, 1)


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


def test_throttling_waits_as_long_as_the_quota_says_without_using_up_attempts(calls):
    _, script = calls
    script.extend([ThrottledError(retry_after=90), ThrottledError(retry_after=90)])
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    for waits in (1, 2):
        before = timezone.now()
        run_worker()
        item.refresh_from_db()
        assert item.state == WorkState.RETRYING and (item.attempts, item.waits) == (0, waits)
        assert 89 <= (item.next_attempt_at - before).total_seconds() <= 92
        make_due(item)
        engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE


def test_an_outage_longer_than_every_attempt_makes_no_dead_letter(calls):
    _, script = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(max_attempts=2)
    script.extend([ConnectorError("503 Service Unavailable", permanent=False)] * 6)
    for _ in range(6):
        run_worker()
        item.refresh_from_db()
        assert item.state == WorkState.RETRYING
        assert (item.next_attempt_at - timezone.now()).total_seconds() <= 300  # tried again within minutes
        make_due(item)
        engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and item.waits == 6


def test_transient_failures_give_up_at_the_deadline_as_a_dead_letter(calls):
    seen, script = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    script.append(ConnectorError("timeout", permanent=False))
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and item.dead_at is not None
    assert "gave up at the deadline" in item.last_error and "timeout" in item.last_error
    assert seen == ["k", "dead"]


def test_deadline_is_never_before_ship_by_and_at_least_the_maximum_age(settings):
    settings.WORK_MAX_AGE_HOURS = 48
    now = timezone.now()
    soon = engine.submit(WorkKind.SEND_ORDER, "soon", priority_at=now + timedelta(hours=2))
    late = engine.submit(WorkKind.SEND_ORDER, "late", priority_at=now + timedelta(days=5))
    assert 47.9 < (soon.deadline - now).total_seconds() / 3600 < 48.1
    assert late.deadline == late.priority_at


def test_repeated_unexpected_errors_become_a_dead_letter(calls):
    _, script = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    WorkItem.objects.filter(pk=item.pk).update(max_attempts=2)
    script.extend([KeyError("LatestShipDate")] * 2)
    run_worker()
    make_due(item)
    engine.sweep()
    run_worker()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and item.attempts == 2


def test_workers_take_the_most_urgent_work_first_whatever_the_queue_order(monkeypatch):
    ran = []
    monkeypatch.setitem(engine.HANDLERS, WorkKind.CONFIRM_SHIPMENT, lambda item: ran.append(item.key))
    now = timezone.now()
    for key, hours, prime in (("d", 30, False), ("b", 5, False), ("a", 5, True), ("c", 20, True),
                              ("e", None, False)):
        engine.submit(WorkKind.CONFIRM_SHIPMENT, key, is_prime=prime,
                      priority_at=now + timedelta(hours=hours) if hours is not None else None)
    run_worker("shipments")
    assert ran == ["a", "b", "c", "d", "e"]  # earliest ship-by, Prime first on ties, undated last


def test_when_waiting_work_succeeds_the_rest_of_its_lane_is_due_at_once(monkeypatch):
    from tests.factories import SellerAccountFactory

    account = SellerAccountFactory()
    outage = {"on": True}
    ran = []

    def confirm(item):
        if outage["on"]:
            raise ConnectorError("503", permanent=False)
        ran.append(item.key)

    monkeypatch.setitem(engine.HANDLERS, WorkKind.CONFIRM_SHIPMENT, confirm)
    now = timezone.now()
    for key, hours in (("3", 30), ("1", 2), ("2", 10)):
        engine.submit(WorkKind.CONFIRM_SHIPMENT, key, account=account, priority_at=now + timedelta(hours=hours))
    run_worker("shipments")
    waiting = WorkItem.objects.filter(state=WorkState.RETRYING)
    assert waiting.count() == 3 and not WorkItem.objects.due().exists()
    outage["on"] = False
    make_due(WorkItem.objects.get(key="3"))  # the least urgent happens to be tried first after the outage
    engine.sweep()
    run_worker("shipments")
    assert ran == ["3", "1", "2"]  # the rest drained at once, most urgent first
    assert set(WorkItem.objects.values_list("state", flat=True)) == {WorkState.DONE}


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
        state=WorkState.RUNNING, claimed_at=timezone.now() - engine.ORPHAN_GRACE * 2)
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
            claimed_at=timezone.now() - engine.ORPHAN_GRACE * 2)
        engine.sweep()
    item.refresh_from_db()
    assert item.state == WorkState.DEAD
    assert "worker lost while running, 3 times" in item.last_error
    assert seen == ["dead"]  # the dead-letter hook ran (e.g. the shipment is marked failed)
    assert engine.run_work_item(item.pk) == "not due or taken by another worker"


def test_each_lane_claims_through_its_own_index():
    from django.db import connection

    from integration_hub.sync.choices import LANES

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # an empty table: ask whether the index can serve
    try:
        for lane, kinds in LANES.items():
            claim = (WorkItem.objects.due().filter(kind__in=kinds, attempts__lt=F("max_attempts"))
                     .order_by(*WorkItem.URGENCY)[:1])
            assert f"work_urgent_{lane}" in claim.explain(), lane
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


def test_many_submissions_queue_a_few_prompts_that_drain_them_all(calls, settings):
    seen, _ = calls
    settings.WORK_PROMPTS_PER_LANE = 3
    for n in range(40):
        engine.submit(WorkKind.IMPORT_ORDER, f"k{n}")
    assert engine.queue_for("orders").count == 3  # not 40 in front of the lane's scheduled jobs
    run_worker("orders")
    assert len(seen) == 40
    assert set(WorkItem.objects.values_list("state", flat=True)) == {WorkState.DONE}


def test_work_asked_for_again_while_running_runs_once_more_with_fresh_data(monkeypatch):
    runs = []

    def handle(item):
        runs.append(item.key)
        if len(runs) == 1:  # an ORDER_CHANGE for this order arrives while its import runs
            engine.submit(WorkKind.IMPORT_ORDER, item.key, reset=True)

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    item = engine.submit(WorkKind.IMPORT_ORDER, "1:202-0000001-0000009")
    run_worker("orders")
    item.refresh_from_db()
    assert runs == [item.key, item.key] and item.state == WorkState.DONE and not item.rerun


def test_work_asked_for_again_on_its_last_attempt_still_runs_once_more(monkeypatch):
    """Found in review: asked again while running its last attempt, an item went due with every attempt
    used, so no claim would take it and it never ended, while the sweeper prompted its lane for ever."""
    runs = []

    def handle(item):
        runs.append(item.attempts)
        if len(runs) == 1:
            engine.submit(WorkKind.IMPORT_ORDER, item.key, reset=True)

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    item = engine.submit(WorkKind.IMPORT_ORDER, "1:202-0000001-0000010")
    WorkItem.objects.filter(pk=item.pk).update(attempts=F("max_attempts") - 1)  # seven unexpected errors before
    run_worker("orders")
    item.refresh_from_db()
    assert len(runs) == 2 and runs[1] == 1, runs
    assert item.state == WorkState.DONE and not item.rerun


def test_asking_again_makes_waiting_work_due_now(calls):
    _, script = calls
    script.append(ConnectorError("503", permanent=False))
    item = engine.submit(WorkKind.IMPORT_ORDER, "k")
    run_worker("orders")
    item.refresh_from_db()
    assert item.state == WorkState.RETRYING and item.next_attempt_at > timezone.now()
    engine.submit(WorkKind.IMPORT_ORDER, "k", reset=True)
    run_worker("orders")
    item.refresh_from_db()
    assert item.state == WorkState.DONE


def test_work_already_past_its_ship_by_goes_after_work_that_can_still_be_on_time(monkeypatch):
    ran = []
    monkeypatch.setitem(engine.HANDLERS, WorkKind.CONFIRM_SHIPMENT, lambda item: ran.append(item.key))
    now = timezone.now()
    for key, minutes in (("late-a", -30), ("soon", 10), ("late-b", -5), ("later", 60)):
        engine.submit(WorkKind.CONFIRM_SHIPMENT, key, priority_at=now + timedelta(minutes=minutes))
    engine.submit(WorkKind.CONFIRM_SHIPMENT, "undated")
    run_worker("shipments")
    assert ran == ["soon", "later", "late-a", "late-b", "undated"]


def test_the_sweeper_reprompts_a_lane_whose_queue_was_emptied_by_hand(calls):
    seen, _ = calls
    for n in range(3):
        engine.submit(WorkKind.IMPORT_ORDER, f"k{n}")
    engine.queue_for("orders").empty()  # an admin empties the queue in django-rq
    assert engine.sweep() >= 1
    run_worker("orders")
    assert sorted(seen) == ["k0", "k1", "k2"]


def test_an_item_whose_worker_died_is_due_again_at_once_not_after_the_stale_limit(calls):
    """A SIGKILLed worker (the chaos run kills them) used to leave its item running for
    15 minutes: a confirmation near its ship-by could miss it. Its lock, dropped with its connection,
    now tells the sweeper at once."""
    seen, _ = calls
    orphan = engine.submit(WorkKind.IMPORT_ORDER, "orphan")
    busy = engine.submit(WorkKind.IMPORT_ORDER, "busy")
    claimed = timezone.now() - engine.ORPHAN_GRACE * 2
    WorkItem.objects.filter(pk__in=[orphan.pk, busy.pk]).update(state=WorkState.RUNNING, attempts=1,
                                                                claimed_at=claimed)
    with lock_held_elsewhere(busy.pk):  # a live worker runs `busy`
        engine.sweep()
        orphan.refresh_from_db()
        busy.refresh_from_db()
        assert orphan.state == WorkState.RETRYING and "worker died" in orphan.last_error
        assert busy.state == WorkState.RUNNING, "a live worker's item was taken from it"
    run_worker()
    orphan.refresh_from_db()
    assert orphan.state == WorkState.DONE and seen == ["orphan"]
    # A fresh claim is left alone for the grace period (its worker may not have taken the lock yet).
    fresh = engine.submit(WorkKind.IMPORT_ORDER, "fresh")
    WorkItem.objects.filter(pk=fresh.pk).update(state=WorkState.RUNNING, claimed_at=timezone.now())
    engine.sweep()
    assert WorkItem.objects.get(pk=fresh.pk).state == WorkState.RUNNING


def test_a_claim_whose_lock_another_session_holds_is_handed_back_not_run_twice(calls):
    """Found in review: the sweeper re-queues an orphan while holding its lock; a worker that claimed it in
    that instant ran it without the lock, so a later sweep could re-queue it under a live run."""
    seen, _ = calls
    item = engine.submit(WorkKind.IMPORT_ORDER, "contended")
    with lock_held_elsewhere(item.pk):
        claimed = engine.claim_next("orders")
        assert claimed.pk == item.pk
        assert engine.run_claimed(claimed) == "busy elsewhere; handed back"
        assert seen == [], "the handler ran without the lock"
        item.refresh_from_db()
        assert item.state == WorkState.RETRYING and item.attempts == 0
    # A stale run's outcome cannot overwrite a newer claim's row.
    WorkItem.objects.filter(pk=item.pk).update(state=WorkState.RUNNING, claimed_at=timezone.now())
    old = WorkItem.objects.get(pk=item.pk)
    old.claimed_at = timezone.now() - timedelta(minutes=1)
    engine._dead(old, "a stale run's verdict")
    assert WorkItem.objects.get(pk=item.pk).state == WorkState.RUNNING


@contextlib.contextmanager
def lock_held_elsewhere(pk):
    """Another database session (another worker) holds the item's advisory lock while the block runs."""
    import threading

    from django.db import connections

    from integration_hub.sync.locks import advisory_lock_id

    holding, release = threading.Event(), threading.Event()

    def other_session():
        with advisory_lock_id(engine.work_lock_key(pk)) as held:
            assert held
            holding.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_session)
    thread.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        thread.join()


def test_a_redis_that_is_down_when_work_is_submitted_loses_nothing_and_the_sweeper_prompts_later(monkeypatch):
    from django.db import transaction
    from redis.exceptions import ConnectionError as RedisDown

    queue = engine.queue_for("stock")

    def down(*args, **kwargs):
        raise RedisDown("Connection refused")

    monkeypatch.setattr(type(queue.connection), "incr", down)
    with transaction.atomic():
        item = engine.submit(WorkKind.PUSH_STOCK, key="9:fast")  # the prompt fails after the commit
    assert WorkItem.objects.get(pk=item.pk).state == WorkState.PENDING, "the work is in Postgres"
    monkeypatch.undo()
    engine.sweep()
    assert engine.queue_for("stock").count >= 1, "prompted once Redis answers"


@pytest.fixture
def batched(monkeypatch):
    """IMPORT_ORDER runs in batches of 3 with a preparer; each test scripts failures by key."""
    seen, prepared, fail = [], [], {}

    def prepare(items):
        prepared.append([item.key for item in items])
        for item in items:
            item.prepared = f"ready:{item.key}"

    def handle(item):
        seen.append((item.key, getattr(item, "prepared", None)))
        if item.key in fail:
            raise fail[item.key]

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    monkeypatch.setitem(engine.PREPARERS, WorkKind.IMPORT_ORDER, prepare)
    monkeypatch.setitem(engine.BATCH_SIZES, WorkKind.IMPORT_ORDER, 3)
    return seen, prepared, fail


def test_a_batch_is_claimed_in_urgency_order_prepared_once_and_recorded_together(batched):
    """Where a kind runs in batches, one claim takes the most urgent item and the next due ones of the same
    kind and account, the preparer loads them at once, and each outcome is recorded as it comes."""
    seen, prepared, fail = batched
    from tests.factories import SellerAccountFactory

    account, other = SellerAccountFactory(), SellerAccountFactory()
    now = timezone.now()
    for key, hours, owner in (("late", 5, account), ("first", 1, account), ("second", 2, account),
                              ("third", 3, account), ("elsewhere", 1.5, other), ("fourth", 4, account)):
        engine.submit(WorkKind.IMPORT_ORDER, key, account=owner, priority_at=now + timedelta(hours=hours))
    fail["second"] = ConnectorError("503 from Amazon", permanent=False)
    batch = engine.claim_batch("orders")
    assert [item.key for item in batch] == ["first", "second", "third"]
    assert all(item.locked and item.state == WorkState.RUNNING for item in batch)
    assert engine.run_batch(batch)[0] == "done"
    assert prepared == [["first", "second", "third"]]
    assert seen == [("first", "ready:first"), ("second", "ready:second"), ("third", "ready:third")]
    states = dict(WorkItem.objects.values_list("key", "state"))
    assert (states["first"], states["second"], states["third"]) == (WorkState.DONE, WorkState.RETRYING,
                                                                    WorkState.DONE)
    # The locks were released: the sweeper sees no live run, and the next claim starts with the other account.
    with engine.advisory_lock_id(engine.work_lock_key(batch[0].pk)) as free:
        assert free
    assert [item.key for item in engine.claim_batch("orders")] == ["elsewhere"]


def test_an_item_of_a_batch_whose_lock_is_held_elsewhere_is_handed_back_and_the_rest_run(batched):
    seen, _, _ = batched
    first = engine.submit(WorkKind.IMPORT_ORDER, "a", priority_at=timezone.now() + timedelta(hours=1))
    held = engine.submit(WorkKind.IMPORT_ORDER, "b", priority_at=timezone.now() + timedelta(hours=2))
    with lock_held_elsewhere(held.pk):
        batch = engine.claim_batch("orders")
        assert [item.key for item in batch] == ["a", "b"]
        assert "busy elsewhere; handed back" in engine.run_batch(batch)
    assert [key for key, _ in seen] == ["a"]
    assert WorkItem.objects.get(pk=first.pk).state == WorkState.DONE
    assert WorkItem.objects.get(pk=held.pk).state == WorkState.RETRYING


def test_a_batch_through_a_real_worker_runs_every_item_once(batched):
    seen, prepared, _ = batched
    for n in range(7):
        engine.submit(WorkKind.IMPORT_ORDER, f"k{n}", priority_at=timezone.now() + timedelta(minutes=n + 1))
    run_worker("orders")
    assert [key for key, _ in seen] == [f"k{n}" for n in range(7)]
    assert [len(batch) for batch in prepared] == [3, 3, 1]
    assert set(WorkItem.objects.values_list("state", flat=True)) == {WorkState.DONE}


seen_when_scheduled = []


def note_progress():
    """A stand-in for a repeating job (the order search): notes how much lane work had run before it."""
    seen_when_scheduled.append(WorkItem.objects.filter(state=WorkState.DONE).count())


def test_a_busy_lane_lets_its_repeating_jobs_run_instead_of_starving_them(calls, settings, monkeypatch):
    """Found with bench_intake: notified reads kept both orders workers inside run_next for a minute at a
    time, and the order search (a repeating job on the same queue) waited behind them, so the cheap
    100-orders-a-page path ran a dozen times in a run. A prompt hands over when a job waits behind it."""
    from integration_hub.sync.engine import running

    monkeypatch.setattr(running, "HANDOVER_AFTER", 0)  # each item here takes no time: hand over at once
    seen, _ = calls
    seen_when_scheduled.clear()
    for n in range(30):
        engine.submit(WorkKind.IMPORT_ORDER, f"k{n}", priority_at=timezone.now() + timedelta(minutes=n + 1))
    queue = engine.queue_for("orders")
    queue.enqueue(note_progress)  # queued behind the prompts, as the scheduler's job would be
    run_worker("orders")
    # Each prompt queued ahead of it ran one claim, then handed over.
    assert len(seen) == 30 and seen_when_scheduled and seen_when_scheduled[0] <= settings.WORK_PROMPTS_PER_LANE
    assert WorkItem.objects.filter(state=WorkState.DONE).count() == 30
    # Prompts alone never hand over: a direct run drains the lane.
    for n in range(5):
        engine.submit(WorkKind.IMPORT_ORDER, f"again{n}")
    assert engine.run_next("orders") == "5 run"


def test_an_item_whose_worker_died_is_claimed_alone_so_its_batch_is_not_taken_down_again(batched):
    """Found in review: an item that kills its worker (out of memory) would be claimed with the same batch
    again and again, each death costing every item of it an attempt, until all were dead letters."""
    now = timezone.now()
    items = [engine.submit(WorkKind.IMPORT_ORDER, f"k{n}", priority_at=now + timedelta(hours=n + 1)) for n in range(4)]
    WorkItem.objects.filter(pk__in=[items[0].pk, items[2].pk]).update(
        state=WorkState.RUNNING, attempts=1, claimed_at=now - engine.ORPHAN_GRACE * 2)
    assert engine.recover_orphans(timezone.now()) == 2
    assert [item.key for item in engine.claim_batch("orders")] == ["k0"]  # alone
    assert [item.key for item in engine.claim_batch("orders")] == ["k1", "k3"]  # without the other orphan
    assert [item.key for item in engine.claim_batch("orders")] == ["k2"]


def test_an_item_is_finished_with_the_next_items_first_call(batched, monkeypatch):
    """Found with bench_pipeline: finishing each item cost a round trip of its own on the busiest paths.
    In a batch it goes with the next item's first call (recorder.write_later); never before the item's
    own calls are written, and the last item of the batch is finished at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from connectors.choices import System
    from integration_hub.exchanges.models import Exchange
    from integration_hub.exchanges.recorder import record

    seen, _, _ = batched
    states_before_call = []

    def handle(item):
        seen.append(item.key)
        states_before_call.append(dict(WorkItem.objects.values_list("key", "state")))
        with record(System.CLARUS, "createGoodsOut", correlation_id=item.key) as call:
            call.done(status=201)

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    for n, key in enumerate(("a", "b", "c")):
        engine.submit(WorkKind.IMPORT_ORDER, key, priority_at=timezone.now() + timedelta(hours=n + 1))
    batch = engine.claim_batch("orders")
    with CaptureQueriesContext(connection) as statements:
        engine.run_batch(batch)
    # "a" still runs (its lock held) until "b" makes its call; "b" likewise until "c"'s.
    assert states_before_call[1]["a"] == WorkState.RUNNING and states_before_call[2]["b"] == WorkState.RUNNING
    assert states_before_call[2]["a"] == WorkState.DONE
    assert set(WorkItem.objects.values_list("state", flat=True)) == {WorkState.DONE}
    assert set(Exchange.objects.values_list("outcome", flat=True)) == {"ok"}
    writes = [q["sql"] for q in statements.captured_queries if not q["sql"].lstrip().startswith("SELECT")]
    assert len(writes) == 4, writes  # three in-flight rows (with the last completion and finish), one finish


def test_an_item_asked_again_mid_batch_runs_once_more(batched, monkeypatch):
    seen, _, _ = batched

    def handle(item):
        seen.append(item.key)
        if seen.count(item.key) == 1 and item.key == "a":  # an ORDER_CHANGE arrives while "a" is imported
            engine.submit(WorkKind.IMPORT_ORDER, item.key, reset=True)

    monkeypatch.setitem(engine.HANDLERS, WorkKind.IMPORT_ORDER, handle)
    for n, key in enumerate(("a", "b", "c")):
        engine.submit(WorkKind.IMPORT_ORDER, key, priority_at=timezone.now() + timedelta(hours=n + 1))
    run_worker("orders")
    assert sorted(seen) == ["a", "a", "b", "c"]
    assert set(WorkItem.objects.values_list("state", "rerun")) == {(WorkState.DONE, False)}
