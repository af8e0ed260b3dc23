import datetime as dt
import re

import pytest
from django.utils import timezone

from connectors.choices import System
from integration_hub.exchanges.recorder import record
from integration_hub.orders.choices import HubState
from tests.factories import OrderFactory, ShipmentFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def figure(html, element_id):
    return int(re.search(rf'id="{element_id}">(\d+)<', html).group(1))


def test_dashboard_shows_what_threatens_account_health(client_as, ops_user):
    now = timezone.now()
    overdue = ShipmentFactory(order=OrderFactory(latest_ship_date=now - dt.timedelta(hours=1)),
                              tracking_number="LATE-1")
    ShipmentFactory(order=OrderFactory(latest_ship_date=now + dt.timedelta(hours=2)), tracking_number="SOON-1")
    ShipmentFactory(order=OrderFactory(latest_ship_date=now + dt.timedelta(days=2)), tracking_number="LATER-1")
    ShipmentFactory(order=OrderFactory(), confirmation_state="confirmed", confirmed_at=now)
    OrderFactory(hub_state=HubState.HELD, hold_reason="unknown SKU MUG-9")
    OrderFactory(hub_state=HubState.SENT, back_office_ref="SO1", latest_ship_date=now - dt.timedelta(hours=3))
    WorkItemFactory(state="dead", kind="confirm_shipment", last_error="400 InvalidInput")
    with record(System.AMAZON, "confirmShipment", correlation_id=overdue.order.amazon_order_id) as call:
        call.done(status=204)

    html = client_as(ops_user).get("/").content.decode()
    assert figure(html, "overdue-count") == 1
    assert figure(html, "at-risk-count") == 2
    assert figure(html, "unconfirmed-count") == 3
    assert figure(html, "held-count") == 1
    assert figure(html, "late-to-dispatch-count") == 1
    assert figure(html, "dead-count") == 1
    # Most urgent first: the overdue package leads the table.
    assert html.index("LATE-1") < html.index("SOON-1") < html.index("LATER-1")
    assert "confirmShipment" in html  # latency table
