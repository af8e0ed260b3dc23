"""A short chaos run in the suite (`make chaos` is the long one): a few hundred orders through real RQ
worker processes while Amazon, Clarus and Sage 500 fail in every way the emulators know (each kind at
least once), a worker is SIGKILLed, Redis is flushed and every back office goes down; nothing may be
lost or doubled, and the only dead letter is the one the run's permanent fault explains (retried as ops
would)."""

import pytest

from connectors.faults import KINDS
from connectors.sql_faults import SQL_KINDS
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
    assert {"400", "accepted_then_rejected"} <= set(result["faults_fired"])
    assert {f"sage {kind}" for kind in SQL_KINDS} <= set(result["faults_fired"]), "every SQL fault on Sage's wire"
    assert result["dead_letters_explained"] == result["dead_letters_retried"] >= 1
    assert result["worker_kills"] >= 1 and result["redis_flushes"] >= 1
