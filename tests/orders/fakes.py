"""Small in-memory stand-ins for the Amazon and back-office connectors, for unit tests.

The end-to-end tests (tests/e2e) use the real connectors against their emulators over HTTP.
"""

import datetime as dt
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from connectors.amazon.client import OrderList, OrderPage
from connectors.amazon.records import AmazonOrder, AmazonOrderLine, FeedResult
from connectors.base import Address, ConnectorError
from integration_hub.orders import connect
from integration_hub.orders.choices import status_from_amazon

_ids = itertools.count(1)


def amazon_order(order_id=None, status="Unshipped", lines=None, **overrides):
    """An AmazonOrder as the connector returns it; lines are (sku, quantity) or AmazonOrderLine."""
    n = next(_ids)
    now = timezone.now()
    built_lines = []
    for i, line in enumerate(lines or [("SKU-A", 1)]):
        if isinstance(line, tuple):
            sku, quantity = line
            line = AmazonOrderLine(order_item_id=f"{n:07d}{i:07d}", sku=sku, asin=f"B0{n:08d}", title=f"Item {sku}",
                                   quantity_ordered=quantity, quantity_shipped=0,
                                   item_price=Decimal("9.99") * quantity, item_tax=Decimal("1.66") * quantity,
                                   shipping_price=Decimal("0"), shipping_tax=Decimal("0"),
                                   promotion_discount=Decimal("0"))
        built_lines.append(line)
    values = dict(
        amazon_order_id=order_id or f"203-{n:07d}-{n * 31 % 10**7:07d}", marketplace_id="A1F83G8C2ARO7P",
        status=status_from_amazon(status), raw_status=status, purchase_date=now - dt.timedelta(hours=1),
        last_update_date=now, earliest_ship_date=now, latest_ship_date=now + dt.timedelta(days=1),
        latest_delivery_date=now + dt.timedelta(days=3), ship_service_level="Std UK Dom", is_prime=False,
        is_business=False, fulfillment_channel="MFN", currency="GBP", order_total=Decimal("9.99"),
        buyer_name="Jane Buyer", buyer_email="jane@marketplace.amazon.co.uk",
        address=Address(name="Jane Buyer", line1="1 High Street", city="Leeds", postcode="LS1 4AB",
                        country_code="GB", phone="0113 000000"),
        lines=built_lines,
    )
    values.update(overrides)
    return AmazonOrder(**values)


class FakeAmazon:
    """Records every call; `fail[op]` is a list of errors raised by the next calls of that operation."""

    def __init__(self):
        self.orders = {}
        self.calls = []
        self.fail = {}
        self.feed_results = {}
        self.watermark = timezone.now()
        self.unreadable = {}  # order id -> reason: found by search_orders but not readable
        self.limiter = SimpleNamespace(tokens_left=lambda operation: 20.0,  # a full searchOrders bucket
                                       plan=lambda operation: (0.0056, 20, False))

    def _call(self, op, *args):
        self.calls.append((op, *args))
        errors = self.fail.get(op)
        if errors:
            raise errors.pop(0)

    def calls_of(self, op):
        return [call[1:] for call in self.calls if call[0] == op]

    def search_orders_page(self, after, before=None, token=None):
        self._call("search_orders", after)
        found = [o for o in self.orders.values() if o.last_update_date >= after]
        return OrderPage(OrderList(found, self.unreadable), "", self.watermark)

    def get_order(self, order_id):
        self._call("get_order", order_id)
        if order_id not in self.orders:
            raise ConnectorError(f"order {order_id} not found", permanent=True, status=404)
        return self.orders[order_id]

    def confirm_shipment(self, order_id, marketplace_id, package):
        self._call("confirm_shipment", order_id, marketplace_id, package)

    def update_quantity(self, update, marketplace_ids=None):
        self._call("update_quantity", update, marketplace_ids)

    def submit_quantity_feed(self, updates):
        self._call("submit_quantity_feed", list(updates))
        return f"FEED{len(self.calls)}"

    def feed_result(self, feed_id):
        self._call("feed_result", feed_id)
        return self.feed_results.get(feed_id, FeedResult(feed_id=feed_id, status="IN_PROGRESS", done=False))


class FakeBackOffice:
    """A back office that remembers the sales orders it was given and serves dispatch pages and stock."""

    def __init__(self):
        self.sales_orders = {}
        self.cancelled = []
        self.dispatch_pages = []
        self.stock = []
        self.calls = []
        self.fail = []  # errors raised by the next create_sales_order calls

    def prepare_creates(self, amazon_order_ids):
        self.calls.append("prepare_creates")

    def create_sales_order(self, order):
        self.calls.append("create_sales_order")
        if self.fail:
            raise self.fail.pop(0)
        self.sales_orders.setdefault(order.amazon_order_id, (f"SO{len(self.sales_orders) + 1}", order))
        return self.sales_orders[order.amazon_order_id][0]

    def cancel_sales_order(self, amazon_order_id):
        self.cancelled.append(amazon_order_id)

    def list_dispatches(self, cursor=""):
        from connectors.base import DispatchPage

        position = int(cursor or 0)
        if position >= len(self.dispatch_pages):
            return DispatchPage(dispatches=[], cursor=str(position))
        return DispatchPage(dispatches=self.dispatch_pages[position], cursor=str(position + 1))

    def dispatches_for_order(self, amazon_order_id):
        self.calls.append(("dispatches_for_order", amazon_order_id))
        return [d for page in self.dispatch_pages for d in page if d.amazon_order_id == amazon_order_id]

    def get_stock(self, item_codes=None):
        self.calls.append(("get_stock", tuple(item_codes or ())))
        return [record for record in self.stock if item_codes is None or record.item_code in item_codes]


class Fakes:
    def __init__(self):
        self.amazon = FakeAmazon()
        self.back_office = FakeBackOffice()


@pytest.fixture
def fakes(monkeypatch):
    """Swap the hub's connectors for in-memory fakes (see integration_hub.orders.connect)."""
    doubles = Fakes()
    monkeypatch.setattr(connect, "amazon", lambda account: doubles.amazon)
    monkeypatch.setattr(connect, "back_office", lambda connection: doubles.back_office)
    return doubles
