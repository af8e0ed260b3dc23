"""Postgres advisory locks by name: one worker at a time for work that must not run twice at once."""

import contextlib
import hashlib

from django.db import connection


def lock_id(name):
    """A stable 64-bit lock id for a name (the same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def advisory_lock(name):
    """Try to take the lock for `name` without waiting; yields whether this session holds it.

    Session-level, so no transaction is held open across the network calls made under it.
    """
    with advisory_lock_id(lock_id(name)) as held:
        yield held


@contextlib.contextmanager
def advisory_lock_id(key):
    """advisory_lock() for a numeric key (a work item's, see sync.engine.work_lock_key)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (held,) = cursor.fetchone()
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
