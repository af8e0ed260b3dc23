"""Redis state every worker process shares: rate-limit buckets and access tokens.

Access tokens are secrets: stored encrypted, expiring with the token, so a process that starts
(or an RQ work horse that forks) reuses a valid token instead of logging in again. A process also
keeps the tokens it has used in memory until they expire or are refused: a worker sends every
request with a token, and reading and decrypting it from Redis each time cost more CPU than the call.
"""

import functools
import json
import time

import redis
from django.conf import settings

from integration_hub.core.fields import decrypt, encrypt


@functools.cache
def shared_redis():
    """One Redis client (and connection pool) per process for the limiter and the token caches.

    redis-py resets a pool inherited across fork, so RQ's forked work horses are safe with it.
    """
    return redis.Redis.from_url(settings.REDIS_URL)


# key -> token this process has read or stored (decrypted; never written anywhere).
_in_memory = {}


def read_token(key):
    """The cached token (a JSON-able dict) under `key`, or None."""
    stored = shared_redis().get(key)
    if not stored:
        return None
    try:
        return json.loads(decrypt(stored.decode()))
    except ValueError:  # encrypted under a key since dropped from HUB_CREDENTIALS_KEYS: log in again
        return None


def store_token(key, token, ttl_seconds):
    shared_redis().set(key, encrypt(json.dumps(token)), ex=max(1, int(ttl_seconds)))


def forget_token(key):
    """Drop the token this process used (the server refused it). The shared one goes too unless it is
    already another: a process that kept the refused token in memory must not delete the token another
    process has just logged in for."""
    refused = _in_memory.pop(key, None)
    shared = read_token(key) if refused else None
    if shared is None or shared["access_token"] == refused["access_token"]:
        shared_redis().delete(key)


def shared_token(key, login, *, rejected=None, wait_seconds=15.0):
    """A valid token from the cache, or from `login()` (a dict with `access_token` and `expires_at`,
    a Unix time), stored for every process. One process logs in at a time per key: the others wait
    for its token, since some servers end the sessions a newer login supersedes. `rejected` is a
    token the server has just refused: it is never handed out again.
    """
    lock = f"{key}:login"
    deadline = time.monotonic() + wait_seconds

    def valid(token):
        return token and token["expires_at"] > time.time() and token["access_token"] != rejected

    def usable():
        token = read_token(key)
        if valid(token):
            _in_memory[key] = token
            return token
        return None

    known = _in_memory.get(key)
    if valid(known):
        return known
    _in_memory.pop(key, None)
    while True:
        token = usable()
        if token:
            return token
        if shared_redis().set(lock, "1", nx=True, ex=60) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    try:
        token = usable()  # another process may have finished just before we took the lock
        if token is None:
            token = login()
            store_token(key, token, token["expires_at"] - time.time())
            _in_memory[key] = token
        return token
    finally:
        shared_redis().delete(lock)
