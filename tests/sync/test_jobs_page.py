"""The jobs page: per lane the work waiting and running (Postgres), the RQ prompts and the workers (Redis),
and long jobs with their progress; finance sees settlement uploads' progress from it too (not the lanes)."""

import django_rq
import pytest
from django.utils import timezone
from rq import Worker

from integration_hub.finance.models import SettlementUpload
from integration_hub.sync.choices import WorkKind, WorkState
from tests.factories import SellerAccountFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipments_worker():
    worker = Worker(["shipments"], connection=django_rq.get_connection("default"), name="jobs-page-worker")
    worker.register_birth()
    yield worker
    worker.register_death()


def test_jobs_page_shows_lanes_workers_running_work_and_long_jobs(client_as, ops_user, shipments_worker):
    account = SellerAccountFactory(name="Jobs seller")
    WorkItemFactory(kind=WorkKind.CONFIRM_SHIPMENT, key="41", account=account, state=WorkState.RUNNING,
                    claimed_at=timezone.now())
    for n in range(3):
        WorkItemFactory(kind=WorkKind.CONFIRM_SHIPMENT, key=f"5{n}", account=account)
    WorkItemFactory(kind=WorkKind.SEND_ORDER, key="1:202-1", account=account, state=WorkState.DEAD)
    SettlementUpload.objects.create(account=account, source_name="big.txt", content=b"x", size=1, uploaded_by="fin")
    html = client_as(ops_user).get("/sync/jobs/").content.decode()
    lanes = html[html.index('id="lanes"'):html.index('id="running"')]
    shipments = lanes[lanes.index("<strong>shipments</strong>"):]
    shipments = shipments[:shipments.index("</tr>")]
    assert ">3</td>" in shipments and ">1</td>" in shipments, "3 waiting, 1 running"
    assert "jobs-page-worker" in shipments
    orders = lanes[lanes.index("<strong>orders</strong>"):]
    orders = orders[:orders.index("</tr>")]
    assert "no worker" in orders and "?state=dead" in orders
    running = html[html.index('id="running"'):html.index('id="long-jobs"')]
    assert "Confirm shipment on Amazon 41" in running and "Jobs seller" in running
    assert "Settlement upload big.txt" in html[html.index('id="long-jobs"'):]
    assert "Waiting for a worker" in html
