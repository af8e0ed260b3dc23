"""Amazon's own account-health figures beside the hub's: the repeating job asks the emulator (over HTTP,
through an RQ worker) for the seller performance report, follows it to DONE, stores the figures; the health
page shows them beside the hub's records over the same dates and says where the two differ; the alert
rule opens when Amazon calls the account AT_RISK."""

import datetime as dt

import pytest
from django.utils import timezone

from integration_hub.alerts.choices import RuleKind
from integration_hub.alerts.models import Alert
from integration_hub.alerts.services import evaluate
from integration_hub.dashboard.models import AmazonHealthReport
from tests.factories import CarrierMapFactory, OrderFactory, ShipmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def confirm(api, emulator, order_id, reference):
    item = emulator.order(order_id)["OrderItems"][0]
    ship_date = (emulator.state.now() - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = api.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json={
        "marketplaceId": emulator.marketplace_id, "packageDetail": {
            "packageReferenceId": reference, "carrierCode": "Royal Mail", "trackingNumber": f"JX{reference}0000000GB",
            "shipDate": ship_date, "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": 1}]}})
    assert answer.status_code == 204, answer.text


def test_amazons_figures_are_fetched_shown_beside_the_hubs_and_alerted_on(
        account, amazon_emulator, amazon_api, run_repeating, client_as, ops_user):
    amazon_emulator.set_faults(quota_multiplier=20)
    amazon_emulator.configure(token_ttl=10 * 86400)
    amazon_api.headers["x-amz-access-token"] = amazon_api.new_access_token(amazon_emulator)
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail")
    now = timezone.now()
    ship_by = now + dt.timedelta(hours=1)
    on_time, late, elsewhere = (amazon_emulator.make_order(latest_ship_date=ship_by) for _ in range(3))
    # The hub's records: two of the orders, one confirmed on time, one late; the third was confirmed
    # in Seller Central, outside the hub.
    for order_id, confirmed_at in ((on_time, now), (late, now + dt.timedelta(hours=2))):
        order = OrderFactory(account=account, amazon_order_id=order_id, latest_ship_date=ship_by,
                             marketplace_id=amazon_emulator.marketplace_id)
        ShipmentFactory(order=order, ship_method="RM24", confirmed_at=confirmed_at)
    confirm(amazon_api, amazon_emulator, on_time, "1")
    amazon_emulator.advance_clock(2 * 3600)
    confirm(amazon_api, amazon_emulator, late, "2")
    confirm(amazon_api, amazon_emulator, elsewhere, "3")
    amazon_emulator.advance_clock(2 * 86400)  # Amazon's report covers whole days up to yesterday

    for _ in range(3):  # ask, then follow IN_QUEUE -> IN_PROGRESS -> DONE
        run_repeating("health.amazon_report")
    report = AmazonHealthReport.objects.get(account=account)
    assert report.done and report.status == "DONE" and report.note == ""
    figures = report.marketplaces[amazon_emulator.marketplace_id]
    assert figures["status"] == "AT_RISK"
    assert (figures["lsr"]["count"], figures["lsr"]["total"]) == (2, 3)
    run_repeating("health.amazon_report")
    assert AmazonHealthReport.objects.filter(account=account).count() == 1, "not asked again within 6 hours"

    html = client_as(ops_user).get("/health/").content.decode()
    section = html[html.index('id="amazon-health"'):]
    assert "AT_RISK" in section
    assert "2 of 3" in section and "1 of 2" in section, "Amazon's count beside the hub's over the same dates"
    assert "records differ" in section

    evaluate(timezone.now())
    alert = Alert.objects.get(rule__kind=RuleKind.AMAZON_STATUS)
    assert "AT_RISK" in alert.summary and "Late Shipment Rate" in alert.summary and alert.resolved_at is None


def test_an_unreadable_report_is_kept_with_what_is_wrong(account, amazon_emulator, run_repeating, monkeypatch):
    from connectors.amazon.emulator import performance

    monkeypatch.setattr(performance, "performance_report", lambda state, report: '{"accountStatuses": []}')
    from connectors.amazon.emulator import reports

    monkeypatch.setitem(reports.REQUESTABLE, "GET_V2_SELLER_PERFORMANCE_REPORT", performance.performance_report)
    amazon_emulator.set_faults(quota_multiplier=20)
    for _ in range(3):
        run_repeating("health.amazon_report")
    report = AmazonHealthReport.objects.get(account=account)
    assert report.done and report.marketplaces == {}
    assert "no performanceMetrics list" in report.note
