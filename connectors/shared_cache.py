"""Redis state every worker process shares: rate-limit buckets and access tokens.

Access tokens are secrets: stored encrypted, expiring with the token, so a process that starts
(or an RQ work horse that forks) reuses a valid token instead of logging in again.
"""

import functools
import json

import redis
from django.conf import settings

from integration_hub.core.fields import decrypt, encrypt


@functools.cache
def shared_redis():
    """One Redis client (and connection pool) per process for the limiter and the token caches.

    redis-py resets a pool inherited across fork, so RQ's forked work horses are safe with it.
    """
    return redis.Redis.from_url(settings.REDIS_URL)


def read_token(key):
    """The cached token (a JSON-able dict) under `key`, or None."""
    stored = shared_redis().get(key)
    return json.loads(decrypt(stored.decode())) if stored else None


def store_token(key, token, ttl_seconds):
    shared_redis().set(key, encrypt(json.dumps(token)), ex=max(1, int(ttl_seconds)))


def forget_token(key):
    shared_redis().delete(key)
