"""The circuit breaker per account and API, kept in CircuitState for the dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.amazon.breaker import CircuitBreaker, CircuitOpenError
from connectors.models import CircuitState
from tests.factories import SellerAccountFactory

pytestmark = pytest.mark.django_db
State = CircuitState.State


@pytest.fixture
def account():
    return SellerAccountFactory()


def trip(breaker):
    for _ in range(CircuitBreaker.THRESHOLD):
        breaker.before_call()
        breaker.failed()


def row(account, api="orders"):
    return CircuitState.objects.get(account=account, api=api)


def cool_down(account, api="orders"):
    past = timezone.now() - CircuitBreaker.COOL_DOWN - timedelta(seconds=1)
    CircuitState.objects.filter(account=account, api=api).update(opened_at=past, updated_at=past)


def test_opens_after_the_threshold_of_consecutive_transient_failures(account):
    breaker = CircuitBreaker(account, "orders")
    for _ in range(CircuitBreaker.THRESHOLD - 1):
        breaker.before_call()
        breaker.failed()
    assert row(account).state == State.CLOSED
    breaker.before_call()
    breaker.failed()
    state = row(account)
    assert (state.state, state.consecutive_failures) == (State.OPEN, CircuitBreaker.THRESHOLD)
    assert state.opened_at is not None


def test_an_open_circuit_refuses_calls_at_once_with_a_transient_error(account):
    trip(CircuitBreaker(account, "orders"))
    with pytest.raises(CircuitOpenError) as refused:
        CircuitBreaker(account, "orders").before_call()  # another worker sees it too
    assert refused.value.permanent is False
    assert "circuit open for orders" in refused.value.message


def test_a_success_resets_the_failure_count(account):
    breaker = CircuitBreaker(account, "orders")
    for _ in range(CircuitBreaker.THRESHOLD - 1):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()
    assert row(account).consecutive_failures == 0
    breaker.before_call()
    breaker.failed()
    assert row(account).state == State.CLOSED


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_the_circuit(account):
    trip(CircuitBreaker(account, "orders"))
    cool_down(account)
    probe, other = CircuitBreaker(account, "orders"), CircuitBreaker(account, "orders")
    probe.before_call()
    assert row(account).state == State.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        other.before_call()  # only one probe at a time
    probe.succeeded()
    state = row(account)
    assert (state.state, state.consecutive_failures, state.opened_at) == (State.CLOSED, 0, None)
    other.before_call()


def test_a_failed_probe_opens_the_circuit_again(account):
    trip(CircuitBreaker(account, "orders"))
    cool_down(account)
    probe = CircuitBreaker(account, "orders")
    probe.before_call()
    probe.failed()
    assert row(account).state == State.OPEN
    with pytest.raises(CircuitOpenError):
        probe.before_call()


def test_a_probe_that_never_reported_back_is_replaced_after_the_cool_down(account):
    trip(CircuitBreaker(account, "orders"))
    cool_down(account)
    CircuitBreaker(account, "orders").before_call()  # this worker dies mid-probe
    cool_down(account)
    CircuitBreaker(account, "orders").before_call()
    assert row(account).state == State.HALF_OPEN


def test_circuits_are_per_api_and_account(account):
    trip(CircuitBreaker(account, "orders"))
    CircuitBreaker(account, "feeds").before_call()
    CircuitBreaker(SellerAccountFactory(), "orders").before_call()
    assert set(CircuitState.objects.filter(account=account).values_list("api", "state")) == {
        ("orders", State.OPEN), ("feeds", State.CLOSED),
    }


def test_a_closed_reading_holds_for_a_moment_then_the_open_circuit_is_seen(account, monkeypatch,
                                                                            django_assert_num_queries):
    clock = [1000.0]
    monkeypatch.setattr("connectors.amazon.breaker.time.monotonic", lambda: clock[0])
    busy = CircuitBreaker(account, "orders")
    busy.before_call()  # reads the row: closed
    trip(CircuitBreaker(account, "orders"))  # another worker's calls fail and open it
    clock[0] += CircuitBreaker.FRESH / 2
    with django_assert_num_queries(0):
        busy.before_call()  # a hundred calls a second read the row once a second, not each time
    clock[0] += CircuitBreaker.FRESH / 2
    with pytest.raises(CircuitOpenError):
        busy.before_call()


def test_a_failure_drops_the_closed_reading_at_once(account, monkeypatch):
    monkeypatch.setattr("connectors.amazon.breaker.time.monotonic", lambda: 1000.0)  # time stands still
    busy = CircuitBreaker(account, "orders")
    busy.before_call()
    trip(CircuitBreaker(account, "orders"))
    busy.failed()
    with pytest.raises(CircuitOpenError):
        busy.before_call()


def test_a_success_in_a_closed_circuit_writes_nothing(account, django_assert_num_queries):
    breaker = CircuitBreaker(account, "orders")
    breaker.before_call()
    breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # resets the count: one UPDATE
    assert row(account).consecutive_failures == 0
    breaker.before_call()
    with django_assert_num_queries(0):
        breaker.succeeded()  # a hundred successes a second write nothing
