"""The lanes' RQ worker loads, before it forks, what every job would otherwise load in its fork."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.amazon.client import AmazonConnector
from tests.factories import SellerAccountFactory

BASE_DIR = Path(__file__).resolve().parents[2]

CHECK = """
import sys, django
django.setup()
import django_rq
loaded = lambda: "httpcore" in sys.modules
assert not loaded(), "loaded by django.setup already: the check would prove nothing"
worker = django_rq.get_worker("orders")
from connectors.amazon.spapi import tls_context
print(type(worker).__name__, loaded(), tls_context.cache_info().currsize)
"""


def test_the_worker_loads_httpx_transport_and_tls_context_before_it_forks():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="integration_hub.settings")
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["HubWorker", "True", "1"]


@pytest.mark.django_db
def test_connectors_share_one_tls_context():
    """Each connector builds httpx clients; the CA bundle is loaded once per process, not per client."""
    first, second = AmazonConnector(SellerAccountFactory()), AmazonConnector(SellerAccountFactory())
    contexts = {id(connector.transport._client._transport._pool._ssl_context) for connector in (first, second)}
    assert len(contexts) == 1
