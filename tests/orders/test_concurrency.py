import threading

import pytest
from django.db import connection

from integration_hub.orders import services
from integration_hub.orders.models import Order
from tests.factories import SellerAccountFactory
from tests.orders.fakes import amazon_order


@pytest.mark.django_db(transaction=True)
def test_two_workers_importing_the_same_order_store_it_once():
    account = SellerAccountFactory()
    record = amazon_order(lines=[("SKU-A", 1), ("SKU-B", 2)])
    start = threading.Barrier(2)
    errors = []

    def import_once():
        try:
            start.wait()
            services.upsert_order(account, record)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    order = Order.objects.get(amazon_order_id=record.amazon_order_id)
    assert order.lines.count() == 2
