"""Intake's window pacing at a peak that notifications cover: search and getOrder split the changes."""

import datetime as dt

from integration_hub.orders.windows import PAGE_FILL, Walk

REFILL = dt.timedelta(seconds=179)  # searchOrders gains a request every 179 seconds
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
BLIND = dt.timedelta(minutes=2)  # Amazon's window ends this long before it is opened


def peak_walk(started_ago, rate=1.0, notified_share=0.95):
    """A walk whose last window opened `started_ago` and ended at Amazon's blind spot then."""
    started = NOW - started_ago
    return Walk(since=started - BLIND, started_at=started, finished_at=started, rate=rate,
                notified_share=notified_share)


def test_a_covered_peak_window_starts_past_what_getorder_has_read():
    walk = peak_walk(started_ago=dt.timedelta(seconds=100))
    unread_from = walk.since + dt.timedelta(seconds=30)  # getOrder read every notified change before it
    assert walk.leap_start(NOW, REFILL, unread_from) == unread_from
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
