"""Confirmations of one order's packages running at once, in two workers with their own connections."""

import threading

import pytest
from django.db import connection

from integration_hub.orders import connect
from integration_hub.orders.choices import OrderStatus
from integration_hub.shipments import services
from integration_hub.shipments.models import Shipment
from tests.factories import CarrierMapFactory, OrderFactory, OrderLineFactory, ShipmentFactory, ShipmentLineFactory
from tests.orders.fakes import FakeAmazon


@pytest.mark.django_db(transaction=True)
def test_two_packages_confirmed_at_once_ship_the_whole_line(monkeypatch):
    CarrierMapFactory()
    order = OrderFactory()
    line = OrderLineFactory(order=order, quantity_ordered=2)
    first = ShipmentFactory(order=order, package_reference_id=1)
    second = ShipmentFactory(order=order, package_reference_id=2)
    ShipmentLineFactory(shipment=first, order_line=line, quantity=1)
    ShipmentLineFactory(shipment=second, order_line=line, quantity=1)
    amazon = FakeAmazon()
    monkeypatch.setattr(connect, "amazon", lambda account: amazon)

    # Both workers try to recompute at the same moment, each after marking its own package confirmed.
    # With the order locked the second cannot get there while the first holds the lock, so the first
    # stops waiting after a short while.
    meeting = threading.Barrier(2)
    recompute = services.update_shipped_quantities

    def together(order, **kwargs):
        try:
            meeting.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return recompute(order, **kwargs)

    monkeypatch.setattr(services, "update_shipped_quantities", together)
    errors = []

    def worker(pk):
        try:
            services.confirm(Shipment.objects.select_related("order__account").get(pk=pk))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in (first.pk, second.pk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    line.refresh_from_db()
    order.refresh_from_db()
    assert set(Shipment.objects.filter(order=order).values_list("confirmation_state", flat=True)) == {"confirmed"}
    assert line.quantity_shipped == 2
    assert order.status == OrderStatus.SHIPPED
