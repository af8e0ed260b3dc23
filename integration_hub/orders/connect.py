"""The hub's two doors to the outside world, in one place so tests can swap them for fakes."""

import hashlib
import logging
import threading
import time

from connectors import registry
from connectors.base import ConnectorError

logger = logging.getLogger(__name__)


_local = threading.local()


def amazon(account):
    """The Amazon connector for a seller account, reused by the thread while the account's settings
    stay the same: building one costs HTTP clients and TLS contexts (most of a confirmation's CPU)."""
    from connectors.amazon.client import AmazonConnector  # late: it loads the SP-API client library

    cache = getattr(_local, "amazon", None)
    if cache is None:
        cache = _local.amazon = {}
    fingerprint = _fingerprint(account)
    cached = cache.get(account.pk)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    if cached is not None:
        cached[1].close()
    connector = AmazonConnector(account)
    cache[account.pk] = (fingerprint, connector)
    return connector


def _fingerprint(account):
    """What the connector is built from; any change (new token, endpoint, marketplace) builds a new one."""
    parts = (account.region, account.seller_id, ",".join(account.marketplace_ids), account.unified_stock,
             account.lwa_app_id, account.lwa_client_secret, account.refresh_token, account.api_endpoint,
             account.lwa_token_url)
    # str(), not repr(): a decrypted secret's repr is stars, so a new refresh token would go unnoticed.
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


# A back-office connector remembers what it looked up (Clarus: carrier services, product ids), so it is
# reused by the thread for this long, then built afresh to see what changed in the back office.
BACK_OFFICE_REUSE_SECONDS = 300


def back_office(connection):
    """The back-office connector (warehouse or ERP) for a BackOfficeConnection, reused by the thread for
    up to BACK_OFFICE_REUSE_SECONDS while the connection's settings stay the same."""
    cache = getattr(_local, "back_office", None)
    if cache is None:
        cache = _local.back_office = {}
    fingerprint = hashlib.sha256("\x1f".join(str(part) for part in (
        connection.kind, connection.endpoint, connection.username, connection.secret,
        sorted((connection.options or {}).items()))).encode()).hexdigest()
    cached = cache.get(connection.pk)
    now = time.monotonic()
    if cached is not None and cached[0] == fingerprint and now - cached[1] < BACK_OFFICE_REUSE_SECONDS:
        return cached[2]
    connector = registry.back_office_for(connection)
    cache[connection.pk] = (fingerprint, now, connector)
    return connector


def for_each(rows, work):
    """Run `work(row)` for each account or connection; one that fails does not stop the others.

    The failures are raised together at the end, so the repeating job's schedule row shows them
    and the next run tries again.
    """
    failures = []
    for row in rows:
        try:
            work(row)
        except ConnectorError as exc:
            logger.warning("%s: %s", row, exc.message)
            failures.append(f"{row}: {exc.message}")
    if failures:
        raise ConnectorError("; ".join(failures), permanent=False)
