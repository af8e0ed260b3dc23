"""End-to-end fixtures: the Amazon emulator over HTTP, the Dynamics SL emulator, and a real RQ worker."""

import django_rq
import pytest
from rq import SimpleWorker

from tests.factories import SellerAccountFactory

QUEUES = ("orders", "shipments", "stock", "default")


@pytest.fixture
def account(amazon_emulator, sl_connection):
    """A seller account pointing at the Amazon emulator, fulfilled by the Dynamics SL emulator."""
    return SellerAccountFactory(
        endpoint=amazon_emulator.url, token_url=amazon_emulator.url + "/auth/o2/token",
        seller_id=amazon_emulator.seller_id, marketplace_ids=["A1F83G8C2ARO7P"],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, back_office=sl_connection,
    )


@pytest.fixture
def work():
    """Run every queued job, and the jobs they queue, in this process (SimpleWorker: no fork)."""

    def drain():
        worker = django_rq.get_worker(*QUEUES, worker_class=SimpleWorker)
        worker.work(burst=True, with_scheduler=False)

    return drain


@pytest.fixture
def run_repeating(work):
    """Queue a repeating job as the scheduler would, then let the worker run it."""
    from integration_hub.sync.scheduler import REPEATING, run_schedule

    def run(name):
        _, _, queue = REPEATING[name]
        django_rq.get_queue(queue).enqueue(run_schedule, name)
        work()

    return run
