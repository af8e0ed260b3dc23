"""The account-health forecast: its arithmetic at the edges, what the home page says, and the alert."""

import datetime as dt

import pytest
from django.utils import timezone

from integration_hub.alerts.choices import RuleKind
from integration_hub.alerts.models import Alert
from integration_hub.alerts.services import evaluate
from integration_hub.dashboard import forecast
from integration_hub.dashboard.models import HealthForecast
from integration_hub.orders.choices import OrderStatus
from tests.factories import CarrierMapFactory, OrderFactory, SellerAccountFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("late", "due", "upcoming", "margin"), [
    (0, 100, 10, 5),    # 5 of 110 is 4.5%: at or over 4%; 4 of 110 is 3.6%
    (3, 97, 3, 1),      # 4 of 100 is exactly 4%: the target is a ceiling, 4% misses it
    (4, 96, 0, 0),      # 4 of 96 is already over
    (0, 0, 1, 1),       # a first order: late, it is 100%
    (0, 1000, 5, 41),   # 40 of 1005 is 3.98%; 41 is 4.08%: more than the 5 upcoming can reach
])
def test_the_margin_is_the_fewest_late_orders_that_reach_the_target(late, due, upcoming, margin):
    assert forecast.lsr_margin(late, due, upcoming) == margin


def orders(account, count, ship_by, **fields):
    return [OrderFactory(account=account, latest_ship_date=ship_by, **fields) for _ in range(count)]


def test_home_page_says_how_many_late_orders_the_account_can_absorb(client_as, ops_user):
    account = SellerAccountFactory(name="Acme")
    now = timezone.now()
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    for order in orders(account, 48, now - dt.timedelta(days=2), status=OrderStatus.SHIPPED):
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=now - dt.timedelta(days=2, hours=1),
                        confirmation_state="confirmed")
    for order in orders(account, 1, now - dt.timedelta(days=3), status=OrderStatus.SHIPPED):  # late
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=now - dt.timedelta(days=2),
                        confirmation_state="confirmed")
    orders(account, 6, now + dt.timedelta(hours=2))  # due soon, not dispatched
    orders(account, 3, now + dt.timedelta(hours=9))  # beyond the 6-hour horizon
    orders(account, 2, now + dt.timedelta(hours=1), status=OrderStatus.CANCELLED)  # never count
    assert forecast.refresh([account], now) == 1
    row = HealthForecast.objects.get(account=account)
    # 1 late of 49 due; 6 upcoming: (1 + k) / 55 >= 4% from k = 2 (3/55 = 5.5%; 2/55 = 3.6%).
    assert (row.late, row.due, row.upcoming, row.to_cross) == (1, 49, 6, 2)
    html = client_as(ops_user).get("/").content.decode()
    assert "2 more late orders in the next 6 hours would put Acme UK&#x27;s Late Shipment Rate at or over 4%" in html

    evaluate(timezone.now())
    alert = Alert.objects.get(rule__kind=RuleKind.HEALTH_FORECAST)
    assert "2 more late orders" in alert.summary


def test_an_account_far_from_the_target_is_said_to_be_safe_and_not_alerted(client_as, ops_user):
    account = SellerAccountFactory(name="Calm")
    now = timezone.now()
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    for order in orders(account, 200, now - dt.timedelta(days=1), status=OrderStatus.SHIPPED):
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=now - dt.timedelta(days=1, hours=2),
                        confirmation_state="confirmed")
    orders(account, 3, now + dt.timedelta(hours=1))
    forecast.refresh([account], now)
    html = client_as(ops_user).get("/").content.decode()
    assert ("Even if all 3 orders due in the next 6 hours ship late, Calm UK&#x27;s Late Shipment Rate stays "
            "under") in html
    evaluate(timezone.now())
    assert not Alert.objects.filter(rule__kind=RuleKind.HEALTH_FORECAST).exists()


def test_packages_waiting_without_valid_tracking_are_forecast_to_sink_valid_tracking(client_as, ops_user):
    account = SellerAccountFactory(name="Untracked")
    now = timezone.now()
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    for order in orders(account, 19, now - dt.timedelta(days=1), status=OrderStatus.SHIPPED):
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=now - dt.timedelta(days=1, hours=2),
                        confirmation_state="confirmed")
    for order in orders(account, 2, now + dt.timedelta(days=1)):  # dispatched, carrier not mapped
        ShipmentFactory(order=order, ship_method="COURIER-X", tracking_number="")
    forecast.refresh([account], now)
    row = HealthForecast.objects.get(account=account)
    assert (row.valid, row.packages, row.waiting, row.waiting_valid) == (19, 19, 2, 0)
    html = client_as(ops_user).get("/").content.decode()
    assert "would put Untracked UK&#x27;s Valid Tracking Rate at 90.5%, under 95%" in html
    evaluate(timezone.now())
    assert Alert.objects.filter(rule__kind=RuleKind.HEALTH_FORECAST, key__endswith=":vtr").exists()


def test_orders_ageing_out_of_the_window_by_the_horizon_are_left_out():
    account = SellerAccountFactory(name="Ageing")
    now = timezone.now()
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    # 25 on-time orders due 9 days 22 hours ago: inside the 10-day window now, out of it in 6 hours.
    for order in orders(account, 25, now - dt.timedelta(days=9, hours=22), status=OrderStatus.SHIPPED):
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=order.latest_ship_date - dt.timedelta(hours=1),
                        confirmation_state="confirmed")
    for order in orders(account, 72, now - dt.timedelta(days=2), status=OrderStatus.SHIPPED):
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=now - dt.timedelta(days=2, hours=1),
                        confirmation_state="confirmed")
    orders(account, 3, now - dt.timedelta(days=1))  # late: due and never confirmed
    orders(account, 10, now + dt.timedelta(hours=2))
    forecast.refresh([account], now)
    row = HealthForecast.objects.get(account=account)
    # At the horizon the window holds 75 past orders, 3 late: (3 + k) / 85 >= 4% from k = 1.
    assert (row.late, row.due, row.upcoming, row.to_cross) == (3, 75, 10, 1)


def test_valid_tracking_exactly_at_amazons_target_misses_it():
    from integration_hub.dashboard.health import VTR_TARGET, Rate

    assert Rate(95, 100, VTR_TARGET, ceiling=False).breached, "Amazon's condition is GREATER_THAN 95%"
    assert not Rate(96, 100, VTR_TARGET, ceiling=False).breached


def test_the_home_page_refresh_interval_is_kept_within_bounds(client_as, ops_user):
    client = client_as(ops_user)
    assert 'data-refresh-ms="3600000"' in client.get("/?refresh=3000000").content.decode()
    assert 'data-refresh-ms="2000"' in client.get("/?refresh=0").content.decode()
    assert 'data-refresh-ms="60000"' in client.get("/?refresh=soon").content.decode()


def test_a_quiet_forecast_says_so(client_as, ops_user):
    account = SellerAccountFactory(name="Quiet")
    OrderFactory(account=account, latest_ship_date=timezone.now() + dt.timedelta(days=2))  # not within 6 hours
    forecast.refresh([account])
    page = " ".join(client_as(ops_user).get("/").content.decode().split())
    assert "Forecast, next 6 hours: no order due and no package waiting puts an account" in page
