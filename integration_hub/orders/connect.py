"""The hub's two doors to the outside world, in one place so tests can swap them for fakes."""

import logging

from connectors import registry
from connectors.base import ConnectorError

logger = logging.getLogger(__name__)


def amazon(account):
    """The Amazon connector for a seller account."""
    from connectors.amazon.client import AmazonConnector  # late: it loads the SP-API client library

    return AmazonConnector(account)


def back_office(connection):
    """The back-office connector (warehouse or ERP) for a BackOfficeConnection."""
    return registry.back_office_for(connection)


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
