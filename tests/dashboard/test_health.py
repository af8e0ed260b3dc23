"""Account health arithmetic: Late Shipment Rate windows and edge cases, Valid Tracking Rate, the
pre-fulfilment cancellation rate, the daily trend, and the page that shows them."""

import datetime as dt

import pytest
from django.utils import timezone

from integration_hub.dashboard import health
from integration_hub.orders.choices import OrderStatus
from tests.factories import CarrierMapFactory, OrderFactory, SellerAccountFactory, ShipmentFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()
DE = "A1PA6795UKMFR9"


def ago(**delta):
    return NOW - dt.timedelta(**delta)


def due(account, *, days_ago, confirmed_after=None, **fields):
    """An order due `days_ago` days ago, confirmed `confirmed_after` (a timedelta from its ship-by) or never."""
    order = OrderFactory(account=account, latest_ship_date=ago(days=days_ago), purchase_date=ago(days=days_ago + 1),
                         **fields)
    if confirmed_after is not None:
        ShipmentFactory(order=order, confirmed_at=order.latest_ship_date + confirmed_after,
                        confirmation_state="confirmed")
    return order


@pytest.fixture
def account():
    return SellerAccountFactory(name="UK store")


def test_late_shipment_rate_counts_late_and_unconfirmed_due_orders_in_each_window(account):
    due(account, days_ago=2, confirmed_after=-dt.timedelta(hours=3))  # on time
    due(account, days_ago=3, confirmed_after=dt.timedelta(minutes=5))  # late by five minutes
    due(account, days_ago=4)  # due, never confirmed: late
    due(account, days_ago=5, status=OrderStatus.SHIPPED)  # shipped outside the hub: not counted late
    due(account, days_ago=1, status=OrderStatus.CANCELLED)  # cancelled: not in the rate
    due(account, days_ago=1, fulfillment_channel="AFN")  # Amazon's fulfilment: not in the rate
    OrderFactory(account=account, latest_ship_date=NOW + dt.timedelta(hours=5))  # not due yet
    due(account, days_ago=20, confirmed_after=dt.timedelta(days=1))  # late, in the 30-day window only
    due(account, days_ago=40)  # outside both windows
    ten, thirty = health.late_shipment(NOW, 10), health.late_shipment(NOW, 30)
    key = (account.pk, "A1F83G8C2ARO7P")
    assert (ten[key].count, ten[key].total) == (2, 4) and ten[key].percent == 50.0 and ten[key].breached
    assert (thirty[key].count, thirty[key].total) == (3, 5)


def test_a_confirmation_exactly_at_the_ship_by_is_on_time_and_an_empty_window_is_no_figure(account):
    due(account, days_ago=1, confirmed_after=dt.timedelta(0))
    rate = health.late_shipment(NOW, 10)[(account.pk, "A1F83G8C2ARO7P")]
    assert (rate.count, rate.total, rate.breached) == (0, 1, False)
    empty = health.Rate(0, 0, 4.0)
    assert empty.percent is None and not empty.breached and str(empty) == "no orders"


def test_valid_tracking_rate_needs_a_tracking_number_and_a_carrier_amazon_knows(account):
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    CarrierMapFactory(warehouse_ship_method="LOCAL-VAN", carrier_code="Other", carrier_name="Van")
    order = OrderFactory(account=account)
    for ship_method, tracking, when in (("RM24", "RM1GB", ago(days=1)), ("LOCAL-VAN", "V1", ago(days=2)),
                                        ("UNMAPPED", "U1", ago(days=3)), ("RM24", "", ago(days=4)),
                                        ("RM24", "RM2GB", ago(days=45))):
        ShipmentFactory(order=order, ship_method=ship_method, tracking_number=tracking, confirmed_at=when,
                        package_reference_id=order.shipments.count() + 1)
    ShipmentFactory(order=order, package_reference_id=9)  # not confirmed yet: not counted
    rate = health.valid_tracking(NOW)[(account.pk, "A1F83G8C2ARO7P")]
    assert (rate.count, rate.total) == (1, 4) and rate.breached


def test_cancellation_rate_counts_the_sellers_cancellations_not_the_buyers(account):
    for _ in range(8):
        OrderFactory(account=account, purchase_date=ago(days=2))
    OrderFactory(account=account, purchase_date=ago(days=1), status=OrderStatus.CANCELLED)
    OrderFactory(account=account, purchase_date=ago(days=1), status=OrderStatus.CANCELLED,
                 buyer_cancel_reason="changed my mind")
    OrderFactory(account=account, purchase_date=ago(days=9), status=OrderStatus.CANCELLED)  # outside 7 days
    rate = health.cancellation(NOW)[(account.pk, "A1F83G8C2ARO7P")]
    assert (rate.count, rate.total) == (1, 10) and rate.breached


def test_each_account_and_marketplace_has_its_own_figures_and_a_daily_trend(account):
    other = SellerAccountFactory(name="EU store")
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")  # valid tracking for both
    due(account, days_ago=2, confirmed_after=dt.timedelta(hours=1))
    due(account, days_ago=2, confirmed_after=-dt.timedelta(hours=1))
    due(other, days_ago=3, confirmed_after=-dt.timedelta(hours=1), marketplace_id=DE)
    rows = health.account_health(NOW, [account, other])
    assert [(r.account, r.marketplace, str(r.lsr_10)) for r in rows] == [("UK store", "UK", "50.0%"),
                                                                         ("EU store", "DE", "0.0%")]
    (day, rate), = rows[0].trend
    assert day == ago(days=2).date() and (rate.count, rate.total) == (1, 2)


@pytest.mark.parametrize("role", ["ops", "finance", "admin"])
def test_the_page_shows_the_figures_definitions_and_trend_to_every_role(request, client_as, role, account):
    due(account, days_ago=2, confirmed_after=dt.timedelta(hours=1))
    page = client_as(request.getfixturevalue(f"{role}_user")).get("/health/").content.decode()
    assert "UK store" in page and "100.0%" in page and "1 of 1" in page
    assert 'class="num error"' in page  # the miss is marked
    assert "Late Shipment Rate" in page and "Amazon&#x27;s target: under 4%" in page
    trend = page[page.index('id="health"'):page.index('id="latency"')]  # the latency chart has bars of its own
    assert trend.count("<rect") == 30 and 'class="late"' in trend


def test_the_home_page_names_the_accounts_missing_a_target(client_as, ops_user, account):
    from integration_hub.alerts import services as alerts

    due(account, days_ago=2)  # due and unconfirmed: LSR 100%
    assert 'id="health-misses"' not in client_as(ops_user).get("/").content.decode()
    alerts.evaluate()  # the minute's evaluation of the alert rules (the "health target" one among them)
    page = client_as(ops_user).get("/").content.decode()
    assert 'id="health-misses"' in page and "UK store UK" in page


def test_confirmation_latency_per_day_shows_the_median_and_p95(client_as, ops_user):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import OrderFactory, SellerAccountFactory, ShipmentFactory

    account = SellerAccountFactory(name="Latency seller")
    yesterday = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    for minutes in (10, 20, 30, 40, 200):  # median 30, p95 (interpolated) 168
        ShipmentFactory(order=OrderFactory(account=account), shipped_at=yesterday,
                        confirmed_at=yesterday + dt.timedelta(minutes=minutes), confirmation_state="confirmed")
    html = client_as(ops_user).get("/health/").content.decode()
    section = html[html.index('id="latency-charts"'):html.index('id="amazon"')]
    assert "Latency seller" in section
    assert f"{yesterday:%a %-d %b}: p50 30.0 min, p95 168.0 min (5 packages)" in section
    assert "top 168.0 min" in section
