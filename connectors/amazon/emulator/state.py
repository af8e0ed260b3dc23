"""Everything the emulator remembers, in memory, behind one lock."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
import time
from dataclasses import dataclass, field

from connectors.faults import AMAZON_KINDS, FaultPlan

from .quotas import Quotas

SELLER_ID = "A2EMULATORSELLER"
MARKETPLACE_ID = "A1F83G8C2ARO7P"  # Amazon.co.uk
CLIENT_ID = "amzn1.application-oa2-client.emulator0000000000000000"
CLIENT_SECRET = "amzn1.oa2-cs.v1.emulator-client-secret"
REFRESH_TOKEN = "Atzr|IwEBIemulator-refresh-token"


@dataclass
class Faults:
    """Failure modes switched on by tests or the demo."""

    error_rate: float = 0.0  # share of SP-API calls answered 500/503
    latency_ms: int = 0  # added before every SP-API answer
    throttle_all: bool = False  # a 429 storm: every SP-API call throttled
    html_502_rate: float = 0.0  # share of calls answered by a proxy's HTML 502
    feed_polls_to_done: int = 2  # getFeed polls after IN_QUEUE before DONE (IN_PROGRESS in between)
    feed_seconds_to_done: float | None = None  # alternatively: DONE this long after createFeed
    stuck_feeds: bool = False  # feeds never leave IN_PROGRESS
    quota_multiplier: float = 1.0  # rates and bursts x this: a seller granted higher limits
    # Rates x this, bursts as documented: Amazon's quotas with time compressed (the hub's own buckets follow with
    # HUB_AMAZON_QUOTA_TIME_FACTOR). Order times then carry milliseconds (see State.now): a search window lasts
    # a few seconds, and whole-second stamps would make each re-read up to a second of orders.
    quota_time_factor: float = 1.0


@dataclass
class Token:
    kind: str  # "lwa", "grantless" or "rdt"
    expires: dt.datetime
    restricted: list = field(default_factory=list)  # RDT: [{"method", "path", "dataElements"}]


@dataclass
class OrderRecord:
    """One order as Amazon keeps it: the v0 Order dict (with PII), its items and the packages confirmed."""

    order: dict
    items: list
    packages: list = field(default_factory=list)  # accepted packageDetail dicts, in order
    first_confirmed: str = ""  # when the first package confirmation reached Amazon (the LSR's clock)
    package_times: dict = field(default_factory=dict)  # packageReferenceId -> when it was first confirmed

    @property
    def order_id(self):
        return self.order["AmazonOrderId"]


def iso(moment):
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value):
    """An aware datetime from ISO 8601, or None when the text is not ISO 8601."""
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class State:
    """The emulator's memory; every reader and writer holds `lock`."""

    def __init__(self, *, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                 seller_id=SELLER_ID, seed=1234):
        """A second seller (the chaos run has two) takes its own `seller_id` and `seed` (the seed makes
        its order ids and generated orders differ from the first seller's)."""
        self.lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.seller_id = seller_id
        self.seed = seed
        self.marketplace_id = MARKETPLACE_ID
        self.base_url = "http://127.0.0.1"  # set by the server once it knows its port
        self.clock_offset = dt.timedelta()
        # Buckets refill on the emulator's clock: advance_clock() refills them as real time would.
        self.quotas = Quotas(clock=lambda: time.monotonic() + self.clock_offset.total_seconds())
        self.tokens = {}  # access token / RDT -> Token; kept across resets so cached tokens stay usable
        self.reset()

    def reset(self):
        """Forget orders, listings, feeds, reports, faults, quotas and the clock; issued tokens stay valid."""
        with self.lock:
            self.token_ttl = 3600  # seconds an LWA access token or RDT stays valid
            self.lag_seconds = 120  # getOrders/searchOrders never see the last two minutes
            self.account_status = None  # the seller performance report's status; None: from the figures
            self.clock_offset = dt.timedelta()
            self.faults = Faults()
            self.fault_plan = FaultPlan(kinds=AMAZON_KINDS)  # scripted and seeded, per operation (connectors.faults)
            self.quotas.reset()
            self.random = random.Random(self.seed)
            self.counter = itertools.count(1)
            self.orders = {}  # AmazonOrderId -> OrderRecord
            self.listings = {}  # sku -> listing dict (see listings.py)
            self.documents = {}  # document id -> {"content_type", "data", "uploaded"}
            self.feeds = {}  # feedId -> feed dict
            self.reports = {}  # reportId -> Report dict
            self.page_tokens = {}  # NextToken -> (kind, ids, position, extra)
            self.requests = []  # (method, path, status)
            from .sqs import Queue

            self.sqs = Queue(lambda: self.now().timestamp())  # ORDER_CHANGE notifications (see sqs.py)

    def now(self):
        """The emulator's clock, in whole seconds as Amazon stamps orders; under compressed time (quota_time_factor)
        in milliseconds, since one second then stands for many and a search window lasts only a few."""
        moment = dt.datetime.now(dt.UTC)
        if self.faults.quota_time_factor == 1:
            return moment.replace(microsecond=0) + self.clock_offset
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000) + self.clock_offset

    def stamp(self, moment):
        """An order's time as Amazon writes it (ISO 8601 in UTC; milliseconds only under compressed time)."""
        if self.faults.quota_time_factor == 1:
            return iso(moment)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def advance_clock(self, seconds):
        """Move the emulator's idea of now forward (expires tokens, ages data past the 2-minute lag)."""
        with self.lock:
            self.clock_offset += dt.timedelta(seconds=seconds)

    def next_number(self):
        return next(self.counter)

    def set_faults(self, **changes):
        with self.lock:
            unknown = set(changes) - set(Faults.__dataclass_fields__)
            if unknown:
                raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
            for name, value in changes.items():
                setattr(self.faults, name, value)
            if "quota_multiplier" in changes or "quota_time_factor" in changes:
                self.quotas.reset(float(self.faults.quota_multiplier), float(self.faults.quota_time_factor))
