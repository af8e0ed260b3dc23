"""Tokens shared by every worker process, and kept in each process's memory."""

import time

from connectors import shared_cache


def test_a_refused_token_kept_in_memory_does_not_delete_the_one_another_process_logged_in_for():
    key = "test:shared:token"
    old = {"access_token": "Atza|old", "expires_at": time.time() + 3600}
    new = {"access_token": "Atza|new", "expires_at": time.time() + 3600}
    assert shared_cache.shared_token(key, lambda: old) == old  # this process logs in and keeps it
    shared_cache.store_token(key, new, 3600)  # another process was refused, logged in again, shared it
    shared_cache.forget_token(key)  # this process's call with the old token is refused in turn
    assert shared_cache.read_token(key) == new
    assert shared_cache.shared_token(key, lambda: {"access_token": "Atza|third"}) == new  # no third login


def test_a_refused_token_that_is_still_the_shared_one_is_forgotten_everywhere():
    key = "test:shared:token"
    token = {"access_token": "Atza|one", "expires_at": time.time() + 3600}
    shared_cache.shared_token(key, lambda: token)
    shared_cache.forget_token(key)
    assert shared_cache.read_token(key) is None and key not in shared_cache._in_memory
