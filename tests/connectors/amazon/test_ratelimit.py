"""The shared Redis token bucket: bursts, waits, reservations across threads, learned rates, 429 drain."""

import threading
import time

import pytest

from connectors.amazon.quotas import USAGE_PLANS, QuotaWaitTooLong, RateLimiter


class Sleeps(list):
    """Records the waits the limiter asks for instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def limiter(sleeps, account_id=1, max_wait=30.0):
    return RateLimiter(account_id, max_wait=max_wait, sleep=sleeps)


def test_burst_is_granted_at_once_then_each_caller_waits_its_turn(sleeps):
    rate, burst = USAGE_PLANS["confirmShipment"]  # 2/s, burst 10
    bucket = limiter(sleeps)
    waits = [bucket.acquire("confirmShipment") for _ in range(burst + 3)]
    assert waits[:burst] == [0.0] * burst
    # Reservations queue up: the 11th waits ~1/rate, the 12th ~2/rate, ... (plus the small margin).
    for n, wait in enumerate(waits[burst:], start=1):
        assert n / rate <= wait <= n / rate + RateLimiter.MARGIN + 0.05
    assert sleeps == waits[burst:]


def test_a_wait_longer_than_allowed_is_refused_and_takes_no_token(sleeps):
    bucket = limiter(sleeps, max_wait=1.0)
    for _ in range(USAGE_PLANS["getReports"][1]):
        bucket.acquire("getReports")
    with pytest.raises(QuotaWaitTooLong) as refused:
        bucket.acquire("getReports")  # 0.0222/s: the next token is ~45 s away
    assert 40 < refused.value.wait < 50
    with pytest.raises(QuotaWaitTooLong) as again:
        bucket.acquire("getReports")
    assert again.value.wait == pytest.approx(refused.value.wait, abs=1.0)  # nothing was reserved
    assert sleeps == []


def test_buckets_are_per_account_and_operation(sleeps):
    first, second = limiter(sleeps, account_id=1), limiter(sleeps, account_id=2)
    for _ in range(5):
        first.acquire("patchListingsItem")
    assert first.acquire("patchListingsItem") > 0
    assert second.acquire("patchListingsItem") == 0.0
    assert first.acquire("confirmShipment") == 0.0


def test_rate_learned_from_the_header_replaces_the_default_and_scales_the_burst(sleeps):
    limiter(sleeps).learn("confirmShipment", "20.0")  # one worker learns it ...
    waits = [limiter(sleeps).acquire("confirmShipment") for _ in range(101)]  # ... every worker uses it
    assert waits[:100] == [0.0] * 100
    assert 1 / 20 <= waits[100] <= 1 / 20 + RateLimiter.MARGIN + 0.05


def test_learning_a_higher_rate_credits_the_larger_burst_to_a_bucket_in_use(sleeps):
    bucket = limiter(sleeps)
    for _ in range(10):
        bucket.acquire("confirmShipment")  # the documented burst of 10 is spent
    bucket.learn("confirmShipment", "20")  # Amazon's bucket held 100 all along
    limiter(sleeps).learn("confirmShipment", "20")  # a second worker learning the same rate credits nothing
    waits = [bucket.acquire("confirmShipment") for _ in range(91)]
    assert waits[:90] == [0.0] * 90 and waits[90] > 0


def test_a_rate_passed_on_a_moment_ago_is_not_sent_to_redis_again(sleeps, monkeypatch):
    """Found with bench_pipeline: every Amazon reply's rate header cost a Redis round trip."""
    bucket = limiter(sleeps)
    bucket.learn("getOrder", "2.5")
    key = bucket._key("rate", "getOrder")
    assert float(bucket.redis.get(key)) == 2.5
    bucket.redis.delete(key)
    bucket.learn("getOrder", "2.5")  # the same value a moment later: not sent
    assert bucket.redis.get(key) is None
    bucket.learn("getOrder", "3")  # a new value always is
    assert float(bucket.redis.get(key)) == 3
    monkeypatch.setattr(RateLimiter, "RELEARN_SECONDS", 0)
    bucket.redis.delete(key)
    bucket.learn("getOrder", "3")  # and the same one again once RELEARN_SECONDS have passed
    assert float(bucket.redis.get(key)) == 3


def test_unreadable_or_missing_rate_header_keeps_the_documented_plan(sleeps):
    bucket = limiter(sleeps)
    for value in ("", None, "fast", "0", "-3"):
        bucket.learn("getOrder", value)
    rate, burst = USAGE_PLANS["getOrder"]
    waits = [bucket.acquire("getOrder") for _ in range(burst + 1)]
    assert waits[:burst] == [0.0] * burst and 1 / rate <= waits[burst] <= 1 / rate + RateLimiter.MARGIN + 0.05


def test_a_429_drains_the_bucket_so_the_next_caller_waits_for_the_refill(sleeps):
    bucket = limiter(sleeps)
    assert bucket.acquire("confirmShipment") == 0.0
    bucket.throttled("confirmShipment")
    wait = bucket.acquire("confirmShipment")
    assert 0.5 <= wait <= 0.5 + RateLimiter.MARGIN + 0.05


def test_operations_without_a_usage_plan_are_not_limited(sleeps):
    bucket = limiter(sleeps)
    assert all(bucket.acquire("uploadFeedDocument") == 0.0 for _ in range(100))


def test_concurrent_workers_never_get_more_than_the_bucket_allows():
    """Four threads, real sleeps: grants follow burst + rate x elapsed, and every thread gets its share."""
    rate, burst = 50.0, 50  # learned 50/s for patchListingsItem (5/s, burst 5) scales the burst to 50
    RateLimiter(7).learn("patchListingsItem", str(rate))
    grants, lock = [], threading.Lock()

    def worker():
        bucket = RateLimiter(7)
        for _ in range(30):
            bucket.acquire("patchListingsItem")
            with lock:
                grants.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grants.sort()
    assert len(grants) == 120
    for count, moment in enumerate(grants, start=1):
        assert count <= burst + rate * (moment - start) + 1
    elapsed = grants[-1] - start
    assert (120 - burst) / rate - 0.1 <= elapsed <= (120 - burst) / rate + 0.6  # not slower than the quota
