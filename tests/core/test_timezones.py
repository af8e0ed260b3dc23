"""Times in the reader's time zone: the browser's zone (cookie set by static/timezone.js) is used for every
page; an unknown zone falls back to the hub's TIME_ZONE; stored times stay UTC."""

import datetime as dt

import pytest

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_pages_show_times_in_the_readers_zone(client_as, ops_user):
    order = OrderFactory(latest_ship_date=dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC))
    client = client_as(ops_user)
    client.cookies["hub_tz"] = "America/New_York"
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "America/New_York" in page
    assert "ship by 2026-11-24 12:00" in page, "17:00 UTC is noon in New York"
    client.cookies["hub_tz"] = "Mars/Olympus_Mons"
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Europe/London" in page and "ship by 2026-11-24 17:00" in page
    order.refresh_from_db()
    assert order.latest_ship_date == dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
