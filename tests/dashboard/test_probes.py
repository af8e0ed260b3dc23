"""/healthz for load balancers and /metrics for Prometheus: figures read from Postgres and Redis at scrape
time, so every process answers the same; metrics need a token or an allowed address."""

import datetime as dt

import django_rq
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rq import Worker

from integration_hub.sync.choices import LANES
from integration_hub.sync.models import Schedule, WorkItem
from tests.factories import OrderFactory, SellerAccountFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers():
    """A worker registered on every lane, as `make run` starts them."""
    started = [Worker([lane], connection=django_rq.get_connection(lane)) for lane in LANES]
    for worker in started:
        worker.register_birth()
    yield started
    for worker in started:
        worker.register_death()


def test_healthz_is_503_until_every_lane_has_a_worker_and_the_scheduler_keeps_time(client):
    answer = client.get("/healthz/")
    assert answer.status_code == 503
    assert answer.json()["database"] == "ok" and answer.json()["redis"] == "ok"
    assert set(answer.json()["workers_missing"]) == set(LANES)


def test_healthz_is_200_with_workers_and_names_an_overdue_schedule(client, workers):
    assert client.get("/healthz/").status_code == 200
    Schedule.objects.create(name="orders.import", interval_seconds=120,
                            last_run_at=timezone.now() - dt.timedelta(minutes=30))
    answer = client.get("/healthz/")
    assert answer.status_code == 503 and answer.json()["scheduler"] == {"overdue": ["orders.import"]}


def test_metrics_are_refused_without_a_token_or_an_allowed_address(client_as, admin_user):
    assert Client().get("/metrics").status_code == 403
    assert client_as(admin_user).get("/metrics").status_code == 403  # a session is not enough
    with override_settings(METRICS_TOKEN="scrape-me"):
        assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    with override_settings(METRICS_ALLOW=["10.9.8.7"]):
        assert Client(REMOTE_ADDR="10.9.8.7").get("/metrics").status_code == 200


@override_settings(METRICS_TOKEN="scrape-me")
def test_metrics_show_urgency_latency_work_queues_and_rates():
    now = timezone.now()
    account = SellerAccountFactory(name="UK")
    late = OrderFactory(account=account, latest_ship_date=now - dt.timedelta(hours=1))
    ShipmentFactory(order=late)  # unconfirmed, past ship-by
    ShipmentFactory(order=OrderFactory(account=account, latest_ship_date=now + dt.timedelta(hours=2)))
    done = OrderFactory(account=account, latest_ship_date=now - dt.timedelta(minutes=5))  # confirmed in time
    ShipmentFactory(order=done, shipped_at=now - dt.timedelta(minutes=20), confirmed_at=now - dt.timedelta(minutes=10),
                    confirmation_state="confirmed")
    WorkItem.objects.create(kind="confirm_shipment", key="1", state="dead")
    text = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).content.decode()
    assert 'hub_unconfirmed_packages{urgency="late"} 1.0' in text
    assert 'hub_unconfirmed_packages{urgency="within_4h"} 1.0' in text
    assert 'hub_confirmation_latency_seconds_bucket{le="300"} 0.0' in text
    assert 'hub_confirmation_latency_seconds_bucket{le="900"} 1.0' in text
    assert "hub_confirmation_latency_seconds_sum 600.0" in text
    assert 'hub_work_items{kind="confirm_shipment",state="dead"} 1.0' in text
    assert 'hub_queue_depth{queue="shipments"}' in text and 'hub_intake_lag_seconds{account="UK"}' in text
    assert 'hub_late_shipment_rate_percent{account="UK",marketplace="UK"} 50.0' in text
