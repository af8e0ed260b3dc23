"""The interfaces the hub uses to reach outside systems, and the canonical records they return.

Nothing above `connectors/` knows which system it talks to: it asks the registry for the
connector of a connection and works with these records.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class ConnectorError(Exception):
    """A call to an outside system failed. `permanent` says whether retrying can help."""

    def __init__(self, message, *, permanent, status=None, code="", retry_after=None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.code = code
        self.retry_after = retry_after  # seconds the caller should wait, when the system said so

    @classmethod
    def from_status(cls, status, message, code=""):
        """4xx other than 408/429 is permanent; 5xx, 408 and 429 are transient."""
        permanent = status is not None and 400 <= status < 500 and status not in (408, 429)
        return cls(message, permanent=permanent, status=status, code=code)


class NotInBackOffice(ConnectorError):
    """The back office holds no such order, and none is on its way (a create still queued there is
    a transient error instead, since the order may yet appear)."""

    def __init__(self, message):
        super().__init__(message, permanent=True, code="not_found")


class ThrottledError(ConnectorError):
    """The outside system answered 429; the work waits and is retried, never dropped."""

    def __init__(self, message="throttled (429)", *, retry_after=None):
        super().__init__(message, permanent=False, status=429, code="QuotaExceeded", retry_after=retry_after)


def retry_after_seconds(value):
    """Seconds from a Retry-After header (a number of seconds, or an HTTP date), or None."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


# ---- canonical records -------------------------------------------------------------------


@dataclass
class Address:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    line3: str = ""
    city: str = ""
    county: str = ""
    postcode: str = ""
    country_code: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class SalesOrderLine:
    line_ref: str  # Amazon OrderItemId
    item_code: str  # back-office item code (after the SKU link)
    quantity: int
    unit_price: Decimal = Decimal("0")
    description: str = ""


@dataclass
class SalesOrder:
    """What the hub asks a back office to create: one Amazon order."""

    amazon_order_id: str
    order_date: dt.datetime
    ship_by: dt.datetime | None
    ship_method: str  # warehouse ship method (from the ship-level map)
    currency: str
    address: Address
    lines: list[SalesOrderLine]
    is_prime: bool = False
    custom_fields: dict = field(default_factory=dict)


@dataclass
class SalesOrderStatus:
    amazon_order_id: str
    back_office_ref: str
    status: str  # the back office's own status word
    cancelled: bool = False
    dispatched: bool = False


@dataclass
class DispatchLine:
    line_ref: str  # Amazon OrderItemId as sent on the order line
    item_code: str
    quantity: int


@dataclass
class DispatchPackage:
    package_ref: str
    tracking_number: str
    lines: list[DispatchLine]


@dataclass
class Dispatch:
    """A dispatch read from the back office: one order leaving the warehouse in one or more packages."""

    dispatch_ref: str
    amazon_order_id: str
    back_office_ref: str
    carrier: str
    ship_method: str
    shipped_at: dt.datetime
    packages: list[DispatchPackage]


@dataclass
class DispatchPage:
    dispatches: list[Dispatch]
    cursor: str  # pass back to read the next dispatches


@dataclass
class StockRecord:
    item_code: str
    warehouse: str
    on_hand: int
    allocated: int
    available: int
    measured_at: dt.datetime


@dataclass
class Item:
    item_code: str
    description: str = ""
    active: bool = True


@dataclass
class ShipMethod:
    code: str
    description: str = ""


@dataclass
class JournalPostLine:
    account: str
    description: str
    debit: Decimal
    credit: Decimal


@dataclass
class JournalPost:
    reference: str  # settlement id (+ part), the idempotency key in the GL
    date: dt.date
    description: str
    currency: str
    lines: list[JournalPostLine]


# ---- interfaces --------------------------------------------------------------------------


class BackOffice(abc.ABC):
    """A warehouse or ERP. One small class per system, registered in `connectors.registry`."""

    def __init__(self, connection):
        self.connection = connection

    @abc.abstractmethod
    def test_connection(self) -> str:
        """Reach the system with the stored credentials; return a short description or raise."""

    @abc.abstractmethod
    def create_sales_order(self, order: SalesOrder) -> str:
        """Create the order unless one with this Amazon order id exists; return its reference."""

    def prepare_creates(self, amazon_order_ids: list[str]) -> None:
        """A worker is about to create these orders, one after another: a system whose create first looks
        for an existing order may look for all of them in one call here, and use what it found for each
        create that follows within seconds. Optional; by default nothing is read ahead."""

    @abc.abstractmethod
    def cancel_sales_order(self, amazon_order_id: str) -> None:
        """Cancel it (done if already cancelled). NotInBackOffice when there is no such order and none
        on its way; a permanent ConnectorError when the warehouse refuses (picked, dispatched)."""

    @abc.abstractmethod
    def get_sales_order_status(self, amazon_order_id: str) -> SalesOrderStatus | None: ...

    def find_sales_order(self, amazon_order_id: str) -> str | None:
        """The reference of the order's sales order, or None when there is none and none on its way.

        Never creates one. A system where a create can be queued (SL's Transaction Import) raises a
        transient ConnectorError while one for this order is still waiting.
        """
        status = self.get_sales_order_status(amazon_order_id)
        return status.back_office_ref if status else None

    @abc.abstractmethod
    def list_dispatches(self, cursor: str = "") -> DispatchPage: ...

    @abc.abstractmethod
    def dispatches_for_order(self, amazon_order_id: str) -> list[Dispatch]:
        """Every dispatch of one order, read fresh: a package first read without its tracking number,
        or a dispatch read before its packages existed, is looked at again this way."""

    @abc.abstractmethod
    def get_stock(self, item_codes: list[str] | None = None) -> list[StockRecord]: ...

    @abc.abstractmethod
    def list_items(self) -> list[Item]: ...

    @abc.abstractmethod
    def list_ship_methods(self) -> list[ShipMethod]: ...

    @abc.abstractmethod
    def post_journal(self, journal: JournalPost) -> str:
        """Post a GL batch once (idempotent on its reference); return the batch reference."""
