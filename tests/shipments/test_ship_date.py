"""The ship date the hub tells Amazon stays within what Amazon accepts (not in the future, not before the
order was placed), whatever the warehouse's clock said."""

import datetime as dt

import pytest
from django.utils import timezone

from integration_hub.shipments.services import CLOCK_MARGIN, ship_date_for
from tests.factories import ShipmentFactory

pytestmark = pytest.mark.django_db


def test_a_warehouse_clock_running_fast_gives_a_ship_date_of_now():
    shipment = ShipmentFactory(shipped_at=timezone.now() + dt.timedelta(minutes=7),
                               order__purchase_date=timezone.now() - dt.timedelta(hours=3))
    sent = ship_date_for(shipment)
    assert timezone.now() - CLOCK_MARGIN - dt.timedelta(seconds=5) <= sent <= timezone.now() - CLOCK_MARGIN


def test_a_ship_date_before_the_order_becomes_the_purchase_time():
    placed = timezone.now() - dt.timedelta(hours=2)
    shipment = ShipmentFactory(shipped_at=placed - dt.timedelta(hours=5), order__purchase_date=placed)
    assert ship_date_for(shipment) == placed


def test_an_ordinary_ship_date_is_sent_as_it_is():
    shipped = timezone.now() - dt.timedelta(hours=1)
    shipment = ShipmentFactory(shipped_at=shipped, order__purchase_date=shipped - dt.timedelta(hours=4))
    assert ship_date_for(shipment) == shipped
