import pytest

from connectors.base import ConnectorError
from connectors.choices import System
from integration_hub.exchanges.models import Exchange
from integration_hub.exchanges.recorder import record

pytestmark = pytest.mark.django_db


def test_one_row_per_call_with_secrets_and_buyer_data_masked():
    request = {"grant_type": "refresh_token", "refresh_token": "Atzr|secret", "client_secret": "shh"}
    response = {"AmazonOrderId": "202-1234567-1234567", "ShippingAddress": {"Name": "Jane Buyer", "City": "Leeds"},
                "BuyerInfo": {"BuyerEmail": "jane@example.com"}, "carrier": {"name": "Royal Mail"}}
    with record(System.AMAZON, "getOrder", correlation_id="202-1234567-1234567", request=request) as call:
        call.done(status=200, response=response, quota="0.5")
    row = Exchange.objects.get()
    assert row.outcome == "ok" and row.http_status == 200 and row.quota_limit == "0.5"
    assert row.latency_ms is not None and row.finished_at
    for secret in ("Atzr|secret", "shh", "Jane Buyer", "jane@example.com", "Leeds"):
        assert secret not in row.request_summary + row.response_summary
    assert "202-1234567-1234567" in row.response_summary
    assert "Royal Mail" in row.response_summary  # a carrier's name is not personal data


def test_failure_is_recorded_with_its_kind_and_reraised():
    with pytest.raises(ConnectorError):
        with record(System.CLARUS, "createGoodsOut", attempt=3):
            raise ConnectorError("product NOPE not found", permanent=True, status=422)
    row = Exchange.objects.get()
    assert (row.outcome, row.http_status, row.attempt) == ("permanent", 422, 3)
    assert "NOPE" in row.error


def test_row_exists_before_the_call_completes():
    with record(System.SAGE500, "spSOapiSalesOrdIns"):
        assert Exchange.objects.get().outcome == "pending"


def test_long_bodies_are_cut_to_the_limit(settings):
    settings.EXCHANGE_BODY_LIMIT = 100
    with record(System.AMAZON, "createFeedDocument", request={"data": "x" * 5000}):
        pass
    summary = Exchange.objects.get().request_summary
    assert len(summary) < 200 and "more characters" in summary


def test_exchange_rows_past_retention_are_purged(settings):
    from datetime import timedelta

    from django.utils import timezone

    from integration_hub.exchanges.jobs import purge_old_exchanges

    settings.EXCHANGE_RETENTION_DAYS = 30
    for _ in range(3):
        with record(System.AMAZON, "getOrder"):
            pass
    old = Exchange.objects.order_by("pk")[:2]
    Exchange.objects.filter(pk__in=[row.pk for row in old]).update(started_at=timezone.now() - timedelta(days=31))
    assert purge_old_exchanges() == 2
    assert Exchange.objects.count() == 1
