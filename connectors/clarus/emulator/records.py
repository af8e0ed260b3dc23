"""The emulator's records: plain objects linked by reference (a goods-out holds its account
object, not an id), so the GraphQL layer resolves relations by attribute. `store.Tenant` changes them."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

# Goods-out status codes. DRAFT..COMPLETED are Clarus's own; CANCELLED is the emulator's
# representation of a cancelled order [I] (see docs/connectors/clarus.md).
STATUS_IDS = {"DRAFT": 1, "PENDING": 2, "ALLOCATED": 3, "PICK": 4, "COMPLETED": 5, "CANCELLED": 6}
STATUS_NAMES = {"DRAFT": "Draft", "PENDING": "Pending", "ALLOCATED": "Allocated", "PICK": "Pick",
                "COMPLETED": "Completed", "CANCELLED": "Cancelled"}

# One id sequence for the whole emulator, like one database behind every tenant.
_ids = itertools.count(48200)


def next_id():
    return next(_ids)


def now():
    return dt.datetime.now(dt.timezone.utc)


class ClarusError(Exception):
    """A business error the API reports as a JSON:API error object."""

    def __init__(self, detail, *, status=422, code="", title="", pointer=""):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = str(code)
        self.title = title or detail
        self.pointer = pointer

    def as_json(self):
        error = {"status": str(self.status), "code": self.code, "title": self.title, "detail": self.detail}
        if self.pointer:
            error["source"] = {"pointer": self.pointer}
        return error


def pick_error(code, title, detail):
    return ClarusError(detail, code=code, title=title)


@dataclass(eq=False)
class Account:
    id: int
    code: str
    name: str


@dataclass(eq=False)
class Warehouse:
    id: int
    code: str
    name: str


@dataclass(eq=False)
class Product:
    id: int
    code: str
    description: str
    accounts: list = field(default_factory=list)

    @property
    def account_id(self):
        return [account.id for account in self.accounts]


@dataclass(eq=False)
class Carrier:
    id: int
    code: str
    name: str
    carrier_type: str = "parcel"


@dataclass(eq=False)
class CarrierService:
    id: int
    code: str
    name: str
    carrier: Carrier
    active: bool = True
    is_default: bool = False


@dataclass(eq=False)
class Balance:
    """Stock of one product for one account in one warehouse."""

    id: int
    product: Product
    account: Account
    warehouse: Warehouse
    on_hand: int = 0
    allocated: int = 0
    held: int = 0
    picked: int = 0

    @property
    def available(self):
        return self.on_hand - self.allocated - self.held


@dataclass(eq=False)
class GoodsOutLine:
    id: int
    goods_out: GoodsOut
    product: Product
    order_quantity: int
    alt_line_number: int | None = None
    alt_line_reference: str = ""
    allocated_quantity: int = 0
    pick_quantity: int = 0
    dispatch_quantity: int = 0
    short_status: str = "NONE"

    @property
    def carrier(self):
        return self.goods_out.carrier


@dataclass(eq=False)
class GoodsOut:
    id: int
    reference: str
    account: Account
    warehouse: Warehouse
    carrier: Carrier | None
    carrier_service: CarrierService | None
    address: dict
    external_system_reference1: str = ""
    external_system_reference2: str = ""
    external_system_reference3: str = ""
    expected_date_of_dispatch: str = ""
    delivery_notes: str = ""
    priority: int = 0
    status: str = "DRAFT"
    actual_date_of_dispatch: dt.datetime | None = None
    lines: list = field(default_factory=list)
    created_at: dt.datetime = field(default_factory=now)
    updated_at: dt.datetime = field(default_factory=now)

    @property
    def goods_out_status(self):
        return {"id": STATUS_IDS[self.status], "code": self.status, "name": STATUS_NAMES[self.status]}

    @property
    def goods_out_lines(self):
        return self.lines

    def touch(self):
        self.updated_at = now()


@dataclass(eq=False)
class PackageLine:
    goods_out_line: GoodsOutLine
    quantity: int


@dataclass(eq=False)
class Package:
    id: int
    reference: str
    tracking_number: str
    lines: list

    @property
    def package_lines(self):
        return self.lines


@dataclass(eq=False)
class Shipment:
    id: int
    goods_out: GoodsOut
    carrier: Carrier | None
    carrier_service: CarrierService | None
    packages: list
    dispatched_at: dt.datetime
    status: str = "dispatched"

    @property
    def reference(self):
        return f"SHP{self.id}"

    @property
    def name(self):
        return self.goods_out.reference

    @property
    def tracking_number(self):
        return self.packages[0].tracking_number if self.packages else ""

    @property
    def packages_count(self):
        return len(self.packages)

    @property
    def warehouse(self):
        return self.goods_out.warehouse

    @property
    def account(self):
        return self.goods_out.account

    @property
    def collection_datetime(self):
        return self.dispatched_at
