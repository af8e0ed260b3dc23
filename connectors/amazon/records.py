"""What the Amazon connector hands to the hub: plain records, money as Decimal, aware datetimes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.base import Address
from integration_hub.orders.choices import OrderStatus


@dataclass
class AmazonOrderLine:
    """One order item; amounts are Amazon's, as Decimal."""

    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity_ordered: int
    quantity_shipped: int
    item_price: Decimal  # unit price x quantity, as Amazon reports it
    item_tax: Decimal
    shipping_price: Decimal
    shipping_tax: Decimal
    promotion_discount: Decimal  # a positive amount taken off


@dataclass
class AmazonOrder:
    """An order as Amazon reports it, the same for both Orders API versions."""

    amazon_order_id: str
    marketplace_id: str
    status: OrderStatus
    raw_status: str
    purchase_date: dt.datetime
    last_update_date: dt.datetime
    earliest_ship_date: dt.datetime | None
    latest_ship_date: dt.datetime | None
    latest_delivery_date: dt.datetime | None
    ship_service_level: str
    is_prime: bool
    is_business: bool
    fulfillment_channel: str  # "MFN" or "AFN"
    currency: str
    order_total: Decimal | None
    buyer_name: str
    buyer_email: str
    address: Address | None
    lines: list[AmazonOrderLine] = field(default_factory=list)
    buyer_cancel_reason: str = ""  # set when the buyer asked to cancel (2026-01-01 CANCELLATION data)


@dataclass
class PackageConfirmation:
    """One package of a shipment to confirm (split shipments: one per package)."""

    package_reference_id: int  # positive, unique per package within the order
    carrier_code: str
    carrier_name: str
    shipping_method: str
    tracking_number: str
    ship_date: dt.datetime
    items: list[tuple[str, int]]  # (order_item_id, quantity)


@dataclass
class QuantityUpdate:
    """A SKU's merchant-fulfilled quantity, with the handling time that must travel with it."""

    sku: str
    quantity: int
    handling_days: int | None
    product_type: str = "PRODUCT"


@dataclass
class FeedResult:
    """Where a quantity feed stands and, once processed, what Amazon said per SKU."""

    feed_id: str
    status: str  # IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL
    done: bool
    issues_by_sku: dict[str, list[str]] = field(default_factory=dict)  # "" = not about one SKU
    accepted: int = 0
    errors: int = 0


@dataclass
class SettlementReportInfo:
    """A settlement report Amazon has ready, and the document to download."""

    report_id: str
    document_id: str
    created: dt.datetime
    data_start: dt.datetime | None
    data_end: dt.datetime | None
