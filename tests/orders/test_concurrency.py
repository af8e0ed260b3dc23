
import pytest

from integration_hub.orders import store
from integration_hub.orders.models import Order
from tests.concurrency import run_together
from tests.factories import SellerAccountFactory
from tests.orders.fakes import amazon_order


@pytest.mark.django_db(transaction=True)
def test_two_workers_importing_the_same_order_store_it_once():
    account = SellerAccountFactory()
    record = amazon_order(lines=[("SKU-A", 1), ("SKU-B", 2)])
    assert run_together(lambda: store.upsert_order(account, record), 2) == []
    order = Order.objects.get(amazon_order_id=record.amazon_order_id)
    assert order.lines.count() == 2
