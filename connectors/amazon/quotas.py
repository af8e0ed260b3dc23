"""Amazon's usage plans as token buckets in Redis, shared by every worker of the hub.

A worker asks for a token before each request and sleeps the time the bucket says instead of
spending a request it knows would be answered 429. The bucket is a reservation (GCRA-style):
a caller that must wait takes its token now, for a moment in the future, so concurrent workers
queue up in order rather than polling. Rates learned from `x-amzn-RateLimit-Limit` replace the
documented defaults per account and operation.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from connectors.shared_cache import shared_redis

logger = logging.getLogger(__name__)

# operation id -> (requests per second, burst), the documented default usage plans (FACTS 1, 3, 4).
USAGE_PLANS = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),  # Orders API 2026-01-01
    "confirmShipment": (2.0, 10),
    "getListingsItem": (5.0, 10),
    "searchListingsItems": (5.0, 5),
    "patchListingsItem": (5.0, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getReports": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
    # A feed-type limit on top of createFeed's: Amazon allows 5 JSON_LISTINGS_FEED submissions per 5
    # minutes (a window, not a bucket). A bucket of 1 refilling every 75 s never sends a sixth in any
    # 5-minute window; the bucket of 5 per 300 s that looks equivalent would allow ten.
    "JSON_LISTINGS_FEED": (1 / 75, 1),
}


def default_plan(operation):
    """(requests per second, burst) documented for an operation; under a time-compressed benchmark
    (HUB_AMAZON_QUOTA_TIME_FACTOR) the rate runs that much faster and the burst, a count, stays."""
    rate, burst = USAGE_PLANS[operation]
    return rate * settings.AMAZON_QUOTA_TIME_FACTOR, burst


# The rate in force: the learned one if Amazon sent one, else the documented default; the header
# only carries the rate, so the burst is assumed to scale with it (Amazon raises plans as a whole).
_PLAN = """
local default_rate = tonumber(ARGV[1])
local default_burst = tonumber(ARGV[2])
local function burst_for(r) return math.max(1, math.floor(default_burst * r / default_rate + 0.5)) end
"""

# Keys: bucket hash, learned rate. Args: default rate, default burst, max_wait, margin.
# Returns {granted 0/1, wait seconds as text}. `stamp` is when `tokens` was last brought up to
# date; it may lie in the future (reserved tokens and the alignment margin). Time comes from the
# Redis server so every worker shares one clock.
_ACQUIRE = _PLAN + """
local max_wait = tonumber(ARGV[3])
local margin = tonumber(ARGV[4])
local rate = tonumber(redis.call('GET', KEYS[2]) or default_rate)
local burst = burst_for(rate)
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp'))
if tokens == nil then tokens = burst; stamp = now end
if now > stamp then
  tokens = tokens + (now - stamp) * rate
  stamp = now
end
if tokens >= burst then
  -- A full bucket: start refilling a little later than Amazon's, so a request that reaches
  -- Amazon sooner than the one before it still finds its token there.
  tokens = burst
  stamp = now + margin
end
local wait = 0
if tokens < 1 then wait = (stamp - now) + (1 - tokens) / rate end
if wait > max_wait then return {0, tostring(wait)} end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'stamp', stamp)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate + wait + margin) + 60)
return {1, tostring(wait)}
"""

# On a 429: Amazon's bucket is empty whatever ours says; empty ours too (refilling from a margin
# later) so the next callers wait. Args: margin.
_DRAIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp'))
if tokens == nil or tokens > 0 then tokens = 0 end
if stamp == nil or stamp < now + tonumber(ARGV[1]) then stamp = now + tonumber(ARGV[1]) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', stamp)
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


# Keys: bucket hash, learned rate. Args: default rate, default burst. The tokens in the bucket now
# (fractional; negative while callers wait for reserved ones), without taking any.
_PEEK = _PLAN + """
local rate = tonumber(redis.call('GET', KEYS[2]) or default_rate)
local burst = burst_for(rate)
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens == nil then return tostring(burst) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp'))
if now > stamp then tokens = tokens + (now - stamp) * rate end
return tostring(math.min(tokens, burst))
"""


# Keys: bucket hash, learned rate. Args: default rate, default burst, new rate, ttl. A changed
# rate changes the burst too; the bucket gains or loses the difference, as Amazon's bucket has
# had the other size all along. Atomic, so workers learning at once credit the difference once.
_LEARN = _PLAN + """
local rate = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[2]) or default_rate)
redis.call('SET', KEYS[2], ARGV[3], 'EX', tonumber(ARGV[4]))
if math.abs(current - rate) < 1e-9 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], 'tokens', burst_for(rate) - burst_for(current))
end
return 1
"""


class QuotaWaitTooLong(Exception):
    """The next token is further away than the caller is willing to wait."""

    def __init__(self, wait):
        super().__init__(f"next token in {wait:.1f}s")
        self.wait = wait


class RateLimiter:
    """Token buckets per seller account and operation; see the module docstring."""

    LEARNED_TTL = 7 * 24 * 3600
    RELEARN_SECONDS = 60
    MARGIN = 0.25  # seconds; absorbs jitter in how long a request takes to reach Amazon (DB write, connect)

    def __init__(self, account_id, connection=None, max_wait=30.0, sleep=time.sleep):
        self.account_id = account_id
        self.redis = connection or shared_redis()
        self.max_wait = max_wait
        self.sleep = sleep
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._drain = self.redis.register_script(_DRAIN)
        self._learn = self.redis.register_script(_LEARN)
        self._peek = self.redis.register_script(_PEEK)
        self._passed_on = {}  # operation -> (header value, monotonic time) last sent to Redis

    def _key(self, kind, operation):
        return f"amazon:{kind}:{self.account_id}:{operation}"

    def _keys(self, operation):
        return [self._key("bucket", operation), self._key("rate", operation)]

    def acquire(self, operation):
        """Wait for a token; raises QuotaWaitTooLong (taking nothing) if it is more than max_wait away."""
        if operation not in USAGE_PLANS:
            return 0.0
        granted, wait = self._acquire(keys=self._keys(operation),
                                      args=[*default_plan(operation), self.max_wait, self.MARGIN])
        wait = float(wait)
        if not granted:
            raise QuotaWaitTooLong(wait)
        if wait > 0:
            self.sleep(wait)
        return wait

    def plan(self, operation):
        """(requests per second, burst, learned?) in force for an operation: the rate Amazon sent in
        `x-amzn-RateLimit-Limit` if it did, else the documented default."""
        default_rate, default_burst = default_plan(operation)
        learned = self.redis.get(self._key("rate", operation))
        rate = float(learned) if learned else default_rate
        return rate, max(1, int(default_burst * rate / default_rate + 0.5)), learned is not None

    def tokens_left(self, operation):
        """Requests the bucket allows right now without waiting (a fraction counts as none)."""
        if operation not in USAGE_PLANS:
            return float("inf")
        return float(self._peek(keys=self._keys(operation), args=list(default_plan(operation))))

    def throttled(self, operation):
        """Amazon answered 429 after all: empty the bucket so everyone waits for the refill."""
        if operation in USAGE_PLANS:
            self._drain(keys=[self._key("bucket", operation)], args=[self.MARGIN])

    def learn(self, operation, header_value):
        """Remember the rate from `x-amzn-RateLimit-Limit` for this account and operation. The same value
        this limiter passed on less than RELEARN_SECONDS ago is not sent to Redis again."""
        if operation not in USAGE_PLANS or not header_value:
            return
        now = time.monotonic()
        last = self._passed_on.get(operation)
        if last is not None and last[0] == header_value and now - last[1] < self.RELEARN_SECONDS:
            return

        try:
            rate = float(header_value)
        except ValueError:
            logger.warning("ignoring unreadable x-amzn-RateLimit-Limit %r for %s", header_value, operation)
            return
        if rate <= 0:
            return
        changed = self._learn(keys=self._keys(operation), args=[*default_plan(operation), rate, self.LEARNED_TTL])
        self._passed_on[operation] = (header_value, now)
        if changed:
            logger.info("account %s %s: Amazon applies %s requests/s", self.account_id, operation, rate)
