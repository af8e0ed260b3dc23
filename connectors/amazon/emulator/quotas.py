"""Amazon's documented default usage plans, enforced as time-based token buckets."""

from __future__ import annotations

import time
from collections import deque

# operation id -> (rate in requests per second, burst); from the official models' usage plans.
USAGE_PLANS = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "searchOrders": (0.0056, 20),
    "getOrder2026": (0.5, 30),
    "createRestrictedDataToken": (1.0, 10),
    "getListingsItem": (5.0, 10),
    "searchListingsItems": (5.0, 5),
    "patchListingsItem": (5.0, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getReports": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
}

# Limits per feed type, on top of createFeed's own bucket: (submissions, per this many seconds), a
# sliding window per seller and region (JSON_LISTINGS_FEED: 5 per 5 minutes since May 2025).
FEED_TYPE_LIMITS = {"JSON_LISTINGS_FEED": (5, 300)}

QUOTA_EXCEEDED_MESSAGE = "You exceeded your quota for the requested resource."


class TokenBucket:
    """Refills at `rate` tokens per second up to `burst`; each request takes one token."""

    def __init__(self, rate, burst, now):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now):
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Quotas:
    """One bucket per (seller, operation); a multiplier stands for sellers granted higher limits."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.multiplier = 1.0
        self.time_factor = 1.0
        self.buckets = {}
        self.windows = {}

    def reset(self, multiplier=1.0, time_factor=1.0):
        self.multiplier = multiplier
        self.time_factor = time_factor
        self.buckets = {}
        self.windows = {}

    def rate(self, operation):
        return USAGE_PLANS[operation][0] * self.multiplier * self.time_factor

    def take(self, seller_id, operation):
        """True when the call may go ahead."""
        rate, burst = USAGE_PLANS[operation]
        key = (seller_id, operation)
        bucket = self.buckets.get(key)
        if bucket is None:
            now = self.clock()
            burst = max(1, round(burst * self.multiplier))
            bucket = self.buckets[key] = TokenBucket(rate * self.multiplier * self.time_factor, burst, now)
        return bucket.take(self.clock())

    def take_feed(self, seller_id, feed_type):
        """True when a createFeed of `feed_type` stays within its feed-type limit (recorded if so)."""
        if feed_type not in FEED_TYPE_LIMITS:
            return True
        count, seconds = FEED_TYPE_LIMITS[feed_type]
        count = max(1, round(count * self.multiplier))
        window = seconds / self.time_factor
        now = self.clock()
        times = self.windows.setdefault((seller_id, feed_type), deque())
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= count:
            return False
        times.append(now)
        return True
