"""A short chaos run in the suite (`make chaos` is the long one): a few hundred orders through real RQ
worker processes while Amazon and Clarus fail in every way the emulators know (each kind at least once),
a worker is SIGKILLed, Redis is flushed and both back offices go down; nothing may be lost or doubled."""

import pytest

from connectors.faults import KINDS
from tests.chaos.run import run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_short_chaos_run_loses_and_doubles_nothing(tmp_path):
    result, broken = run(seed=20261124, orders=240, workdir=tmp_path, rate=8.0, say=print)
    assert broken == [], "\n".join(broken[:20])
    assert result["ok"] and result["orders"] == 240
    assert result["duplicate_sales_orders"] == 0 and result["duplicate_confirmations"] == 0
    assert result["lost"] == 0 and result["pending"] == 0 and result["stock_mismatches"] == 0
    assert result["sales_orders_created"] >= result["orders"] - result["cancelled"]
    assert result["confirmed_once"] == result["packages"] > 0
    assert set(KINDS) <= set(result["faults_fired"]), "every fault kind fired at least once"
    assert result["worker_kills"] >= 1 and result["redis_flushes"] >= 1
