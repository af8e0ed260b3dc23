"""Intake's window pacing at a peak that notifications cover: search and getOrder split the changes."""

import datetime as dt
from types import SimpleNamespace

from connectors.amazon.client import OrderList
from integration_hub.orders.windows import PAGE_FILL, Walk

REFILL = dt.timedelta(seconds=179)  # searchOrders gains a request every 179 seconds
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
BLIND = dt.timedelta(minutes=2)  # Amazon's window ends this long before it is opened


def peak_walk(started_ago, rate=1.0, notified_share=0.95):
    """A walk whose last window opened `started_ago` and ended at Amazon's blind spot then."""
    started = NOW - started_ago
    return Walk(since=started - BLIND, started_at=started, finished_at=started, rate=rate,
                notified_share=notified_share, blind=BLIND.total_seconds())


def test_a_covered_peak_window_starts_past_what_getorder_has_read():
    walk = peak_walk(started_ago=dt.timedelta(seconds=100))
    unread_from = walk.since + dt.timedelta(seconds=30)  # getOrder read every notified change before it
    assert walk.leap_start(NOW, unread_from) == unread_from
    walk.open_next(NOW, tokens_left=8, burst=20, refill_every=REFILL, unread_from=unread_from)
    assert walk.after == unread_from
    assert walk.recheck_from == NOW - dt.timedelta(seconds=100) - BLIND  # the skipped seconds are owed


def test_with_more_than_a_page_unread_a_covered_peak_window_is_the_newest_page():
    walk = peak_walk(started_ago=dt.timedelta(seconds=400))  # 400 changes unread, at one a second
    unread_from = walk.since - dt.timedelta(minutes=5)  # getOrder is behind the watermark: nothing read past it
    walk.open_next(NOW, tokens_left=1, burst=20, refill_every=REFILL, unread_from=unread_from)
    page = dt.timedelta(seconds=PAGE_FILL * 100 / 1.0)
    assert walk.after == NOW - BLIND - page  # Amazon's window ends at NOW - BLIND: a page before it


def test_a_covered_peak_waits_for_a_page_of_changes_getorder_has_not_read():
    page = dt.timedelta(seconds=PAGE_FILL * 100 / 1.0)
    walk = peak_walk(started_ago=page + dt.timedelta(seconds=1))
    assert walk.due(NOW, tokens_left=20, refill_every=REFILL)  # a page is due
    assert walk.due(NOW, tokens_left=20, refill_every=REFILL, unread_from=walk.since)
    # getOrder has read the first 30 seconds of it: the page is 30 seconds away yet
    assert not walk.due(NOW, tokens_left=20, refill_every=REFILL, unread_from=walk.since + dt.timedelta(seconds=30))
    later = NOW + dt.timedelta(seconds=30)
    assert walk.due(later, tokens_left=20, refill_every=REFILL, unread_from=walk.since + dt.timedelta(seconds=30))


def test_without_notifications_to_count_on_a_peak_window_neither_leaps_nor_waits_for_getorder():
    walk = peak_walk(started_ago=dt.timedelta(seconds=400), notified_share=0.5)
    unread_from = walk.since + dt.timedelta(seconds=30)
    assert walk.due(NOW, tokens_left=1, refill_every=REFILL, unread_from=unread_from)
    since = walk.since
    walk.open_next(NOW, tokens_left=1, burst=20, refill_every=REFILL, unread_from=unread_from)
    assert since - dt.timedelta(seconds=11) < walk.after < since  # only the boundary seconds re-read
    quiet = peak_walk(started_ago=dt.timedelta(seconds=400), rate=0.01)  # no peak: a page takes hours
    quiet.open_next(NOW, tokens_left=1, burst=20, refill_every=REFILL, unread_from=unread_from)
    assert quiet.after < quiet.since


def test_amazons_blind_spot_is_measured_by_each_windows_first_answer():
    """Found in review: the blind spot was taken as the time from the last window's opening to its end. A
    window read again from its start after its page token was refused, long after it opened, made that
    nothing, and the next window asked for changes after the end of Amazon's results."""
    walk = peak_walk(started_ago=dt.timedelta(minutes=30))
    walk.open(walk.since, NOW - dt.timedelta(minutes=20))
    walk.restart()  # the token was refused: the window is read again from its first page, now
    walk.turn_page(SimpleNamespace(orders=OrderList(), next_token="", window_end=NOW - BLIND), NOW)
    assert walk.blind == BLIND.total_seconds()
    walk.rate, walk.notified_share = 1.0, 0.95
    walk.started_at = NOW - dt.timedelta(minutes=20)  # how long ago the window opened says nothing
    start = walk.leap_start(NOW + dt.timedelta(minutes=5), None)
    assert start == NOW + dt.timedelta(minutes=5) - BLIND - dt.timedelta(seconds=PAGE_FILL * 100)
    # a hub clock three minutes behind Amazon's: Amazon's results end a minute after the hub's now
    walk.open(walk.since, NOW)
    walk.turn_page(SimpleNamespace(orders=OrderList(), next_token="", window_end=NOW + dt.timedelta(minutes=1)),
                   NOW)
    assert walk.blind == -60.0


def test_off_peak_the_full_overlap_is_re_read_whenever_the_bucket_keeps_half_its_burst_after_it():
    """Found with bench_outage: under a raised plan (a burst of 600) the bucket was never nearly full, so a
    busy account without notifications, whose orders reached Amazon's index a minute after their change,
    re-read only the boundary seconds and left every order behind the watermark to the reconciliation."""
    raised = dt.timedelta(seconds=6)  # thirty times the documented rate: not a peak at two changes a second
    walk = Walk(since=NOW - BLIND, started_at=NOW - dt.timedelta(seconds=30), rate=2.0, blind=BLIND.total_seconds())
    walk.open_next(NOW, tokens_left=500, burst=600, refill_every=raised, held=1200)
    assert walk.after == walk.owed_from() and walk.recheck_from is None
    walk = Walk(since=NOW - BLIND, started_at=NOW - dt.timedelta(seconds=30), rate=2.0, blind=BLIND.total_seconds())
    walk.open_next(NOW, tokens_left=15, burst=20, refill_every=raised, held=1200)  # twelve pages: not affordable
    assert walk.after == walk.since - dt.timedelta(seconds=10) and walk.recheck_from == walk.since
