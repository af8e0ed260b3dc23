"""How intake walks searchOrders: where the walk stands (saved after every page), when the next window
opens and how far back it re-reads. See integration_hub.orders.intake for the walk itself."""

import dataclasses
import datetime as dt
import json

from django.conf import settings

from connectors.amazon.client import SEARCH_PAGE
from integration_hub.sync.models import Cursor

# LastUpdatedAfter is set this far before the stored watermark: Amazon's order index is eventually
# consistent, so an order updated just before the last read can appear in results a little later.
# At volume that re-read is most of a window (ten minutes of a Prime Day are several pages, each a
# token), so it is done only while it fits in the page read anyway, or with OPEN_RESERVE left in the
# bucket after its pages (at a peak, the bucket nearly full too: RECHECK_SPARE below the burst): any
# other window re-reads SHORT_OVERLAP (the boundary seconds) and notes where it cut the overlap; a later
# window that can afford it re-reads from there, but never more than RECHECK_LIMIT back (a window of
# hours would hold the watermark for hours, a page every three minutes): older owed spans are the
# reconciliation's. Meanwhile ORDER_CHANGE notifications read late-indexed orders by getOrder.
IMPORT_OVERLAP = dt.timedelta(seconds=settings.INTAKE_OVERLAP_SECONDS)
SHORT_OVERLAP = IMPORT_OVERLAP / 60
RECHECK_SPARE = 2
RECHECK_LIMIT = IMPORT_OVERLAP * 6
# At a peak, SHORT_OVERLAP is a large share of every window (ten seconds of a page due every minute or
# so). While ORDER_CHANGE names nearly every order a window reads (NOTIFIED_ENOUGH), a late-indexed
# order is read by getOrder anyway, so the next window re-reads nothing and the seconds are owed like
# the rest of the overlap. A notification counts for a change up to NOTICE_SLACK before the one read,
# and so does one that came after the search had read the change (counted by the next window to end:
# notifications that lag behind Amazon's blind spot for a while are still notifications).
# At such a peak search and getOrder also split the changes between them rather than both reading the
# same orders: getOrder reads the notified orders oldest change first, and the search leaps over what it
# has read. A window waits for a page of changes past where getOrder's reads stand (`unread_from`) and
# Amazon's end (now less the blind spot its last first answer showed), and with more than a page waiting
# it is the newest page of them (`Walk.leap_start`): the older ones are getOrder's. Skipped seconds are
# owed like the overlap (a change no notification named is read by the owed re-read or the
# reconciliation, which reads orders the hub holds older than Amazon's too).
NOTIFIED_ENOUGH = 0.9
NOTICE_SLACK = dt.timedelta(minutes=5)
# A new window opens MIN_POLL_GAP after the last one while the bucket holds at least OPEN_RESERVE
# requests (half the burst stays for windows of many pages). With fewer, a window waits until a full page
# of changes is due (by the rate the last window saw), and never longer than a gap that grows towards
# MAX_POLL_GAP as the bucket empties down to the reconciliation's reserve: a quiet account polls at the
# quota's own pace with more than the reserve left, so the reconciliation gets the requests above it.
# At a peak (a page of changes due sooner than the bucket refills a request) every window waits for its
# full page whatever the bucket holds: a request spent on part of a page is one page fewer later in the
# peak, when the bucket is empty; meanwhile getOrder reads the notified orders.
OPEN_RESERVE = 10
# A window waiting for "a full page" waits for this share of one: changes come unevenly, and a window
# that holds 101 costs a second request for one order (at 85% of a page, about one window in twenty).
PAGE_FILL = 0.85
MIN_POLL_GAP = dt.timedelta(seconds=settings.INTAKE_MIN_POLL_GAP_SECONDS)
MAX_POLL_GAP = dt.timedelta(seconds=settings.INTAKE_MAX_POLL_GAP_SECONDS)


def at_peak(rate, refill_every):
    """A page of changes is due (by `rate`, per second) sooner than the bucket gains a request."""
    return bool(rate) and refill_every is not None and PAGE_FILL * SEARCH_PAGE / rate <= refill_every.total_seconds()


def poll_gap(tokens_left, rate=None, refill_every=None, overlap=SHORT_OVERLAP):
    """How long after the last window the next may open, given the requests the bucket holds, the
    changes per second the last window saw (None: not known), how often the bucket gains a request and
    how much of the last window the next re-reads."""
    page_due = dt.timedelta(seconds=PAGE_FILL * SEARCH_PAGE / rate) - overlap if rate else None
    if at_peak(rate, refill_every):
        return max(MIN_POLL_GAP, page_due)  # full pages only
    if tokens_left >= OPEN_RESERVE:
        return MIN_POLL_GAP
    floor = RECONCILE_RESERVE + 1
    share = (OPEN_RESERVE - max(floor, tokens_left)) / (OPEN_RESERVE - floor)
    gap = MIN_POLL_GAP + (MAX_POLL_GAP - MIN_POLL_GAP) * share
    return gap if page_due is None else min(gap, max(MIN_POLL_GAP, page_due))


# The reconciliation reads only while the bucket holds more than this many requests, which stay for intake.
RECONCILE_RESERVE = 5


@dataclasses.dataclass
class Walk:
    """Where a page-by-page search stands: the watermark, and the window being walked if any."""

    since: dt.datetime | None = None  # every change before this has been read or is owed (intake's watermark)
    after: dt.datetime | None = None  # the window being walked; None when none is open
    before: dt.datetime | None = None  # its end, as Amazon's first answer gave it
    token: str = ""  # the next page of that window
    started_at: dt.datetime | None = None  # when the last window was opened
    finished_at: dt.datetime | None = None  # when the last window was walked to its end
    recheck_from: dt.datetime | None = None  # the earliest watermark whose full overlap is still owed
    seen: int = 0  # orders the open window's pages held so far
    first: dt.datetime | None = None  # the earliest change they held
    notified: int = 0  # how many of them ORDER_CHANGE had named (a read queued for that change)
    rate: float | None = None  # orders changed per second in the last window walked to its end
    notified_share: float = 0.0  # the share of its orders notifications had named
    blind: float | None = None  # seconds Amazon's last window ended before the run that opened it

    TIMES = ("since", "after", "before", "started_at", "finished_at", "recheck_from", "first")
    VALUES = ("token", "seen", "notified", "rate", "notified_share", "blind")  # saved as they are
    # The rate is measured from the window's earliest change once it held this many: a peak that begins
    # inside a long window (the first after a quiet spell) shows its own rate, not the window's average.
    RATE_SAMPLE = 10

    @classmethod
    def load(cls, name):
        stored = Cursor.read(name)
        if not stored:
            return cls()
        if not stored.startswith("{"):  # a watermark saved before windows were walked page by page
            return cls(since=dt.datetime.fromisoformat(stored))
        data = json.loads(stored)
        times = {name: dt.datetime.fromisoformat(data[name]) if data.get(name) else None for name in cls.TIMES}
        values = {name: data[name] for name in cls.VALUES if data.get(name) is not None}  # else the default
        return cls(**values, **times)

    def save(self, name):
        data = {time: getattr(self, time).isoformat() if getattr(self, time) else None for time in self.TIMES}
        Cursor.write(name, json.dumps({**data, **{value: getattr(self, value) for value in self.VALUES}}))

    def open(self, after, now):
        self.after, self.started_at = after, now
        self.restart()

    def restart(self):
        """Read the open window again from its first page (its end and every count forgotten)."""
        self.before, self.token, self.seen, self.first, self.notified = None, "", 0, None, 0

    def covered(self, refill_every):
        """A peak that notifications cover (see NOTIFIED_ENOUGH): search and getOrder split the changes."""
        return at_peak(self.rate, refill_every) and self.notified_share >= NOTIFIED_ENOUGH

    def boundary(self, refill_every):
        """The seconds before the watermark the next window re-reads when it does not re-read the full
        overlap: none at a peak that notifications cover, else SHORT_OVERLAP."""
        return dt.timedelta(0) if self.covered(refill_every) else SHORT_OVERLAP

    def leaps(self, refill_every):
        """The next window may leap (see NOTIFIED_ENOUGH): a covered peak, and Amazon's blind spot known."""
        return self.covered(refill_every) and self.blind is not None and self.since is not None

    def unread(self, now, unread_from):
        """From where, to where (Amazon's end for a window opened `now`, its blind spot as the last window
        found it, on Amazon's clock whatever the hub's), the changes getOrder has not read wait."""
        return max(self.since, unread_from or self.since), now - dt.timedelta(seconds=self.blind)

    def due(self, now, tokens_left, refill_every, unread_from=None):
        """The next window may open now (see poll_gap); `refill_every`: how often the bucket gains a request;
        `unread_from`: where getOrder's reads of notified changes stand (see intake._unread_notified_from).
        A window that may leap waits for a page of changes past what getOrder has read."""
        if self.started_at is None:
            return True
        if self.leaps(refill_every):
            start, end = self.unread(now, unread_from)
            waiting = self.rate * (end - start).total_seconds()
            return now - self.started_at >= MIN_POLL_GAP and waiting >= PAGE_FILL * SEARCH_PAGE
        return now - self.started_at >= poll_gap(tokens_left, self.rate, refill_every, self.boundary(refill_every))

    def leap_start(self, now, unread_from):
        """Where a window that leaps starts: past what getOrder has read, and at the newest page of changes
        when more wait (counted at the rate the last window saw)."""
        start, end = self.unread(now, unread_from)
        return max(start, end - dt.timedelta(seconds=PAGE_FILL * SEARCH_PAGE / self.rate))

    def owed_from(self):
        """Where a full re-read starts: the full overlap before the earliest watermark owed one, at most
        RECHECK_LIMIT before the watermark."""
        return max(min(self.since, self.recheck_from or self.since) - IMPORT_OVERLAP, self.since - RECHECK_LIMIT)

    def open_next(self, now, tokens_left, burst, refill_every, unread_from=None, held=0):
        """Open the window after the watermark: it re-reads the full overlap (from owed_from) when that costs
        no extra page, or when the bucket keeps OPEN_RESERVE after the pages it takes (at a peak only with
        the bucket nearly full too); otherwise only its boundary, the rest owed; at a covered peak it leaps
        (see leap_start), what it skips owed. `held`: the changes the hub holds or has still to read from
        owed_from to the watermark. The pages a re-read costs count those or, if more, as many as the last
        window's rate puts there, and the changes since. (Found with bench_intake: after a peak the last
        window's rate, none, called the owed hour cheap, and a re-read of the whole peak held the watermark
        for an hour.)"""
        waited = (now - self.started_at).total_seconds() if self.started_at else 0.0
        full = self.owed_from()
        owed = max(held, (self.rate or 0.0) * (self.since - full).total_seconds())
        pages = (owed + (self.rate or 0.0) * waited) / SEARCH_PAGE
        cheap = pages <= 1
        spare = tokens_left >= burst - RECHECK_SPARE or not at_peak(self.rate, refill_every)
        if cheap or (spare and tokens_left - pages >= OPEN_RESERVE):
            start = full
            self.recheck_from = None
        elif self.leaps(refill_every):
            start = self.leap_start(now, unread_from)
            self.recheck_from = self.recheck_from or self.since
        else:
            start = self.since - self.boundary(refill_every)
            self.recheck_from = self.recheck_from or self.since
        self.open(start, now)

    def turn_page(self, page, now, notified=0, late=0):
        """Note a page read (`notified`: how many of its orders notifications had named; `late`, on the last
        page: how many notifications came for changes the hub held already since the last window ended):
        the window's end from the first answer, then the next token or the end."""
        if self.before is None:  # the window's first answer (or the first after its token was refused)
            self.before, self.blind = page.window_end, (now - page.window_end).total_seconds()
        self.token = page.next_token
        self.seen += len(page.orders) + len(page.orders.unreadable)
        self.notified += notified
        self.first = min([moment for moment in [self.first, *(order.last_update_date for order in page.orders)]
                          if moment], default=None)
        if not self.token:
            start = max(self.after, self.first) if self.first and self.seen >= self.RATE_SAMPLE else self.after
            span = (self.before - start).total_seconds()
            self.rate = self.seen / span if span > 0 and self.seen else None
            self.notified_share = min(1.0, (self.notified + late) / self.seen) if self.seen else 0.0
            self.since, self.after, self.before, self.finished_at = self.before, None, None, now
