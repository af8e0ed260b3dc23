"""Scripted and seeded emulator faults (connectors.faults): deterministic per operation, replayable
from a seed, and "applied, then the reply is lost" for real, over loopback HTTP."""

import pytest
import requests

from connectors.faults import FaultPlan


def test_scripted_faults_fire_in_order_for_their_operation_only():
    plan = FaultPlan()
    plan.script("confirmShipment", "429", None, "applied_then_reset")
    assert [plan.next("getOrder"), plan.next("confirmShipment"), plan.next("confirmShipment"),
            plan.next("confirmShipment"), plan.next("confirmShipment")] == [None, "429", None, "applied_then_reset",
                                                                             None]
    assert plan.fired == [("confirmShipment", "429"), ("confirmShipment", "applied_then_reset")]


def test_a_seeded_run_replays_exactly_and_is_independent_of_other_randomness():
    def run(seed):
        plan = FaultPlan()
        plan.randomly({"500": 0.2, "applied_then_reset": 0.1}, seed=seed, operations={"createFeed"})
        return [plan.next(op) for op in ["createFeed", "getOrder"] * 200]

    import random

    first = run(7)
    random.random()  # the global generator (and the one that makes orders) does not matter
    assert run(7) == first and run(8) != first
    assert set(first[1::2]) == {None}  # only the named operations
    assert 0.15 < first[0::2].count("500") / 200 < 0.25


def test_bad_plans_are_refused_with_what_is_wrong():
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        plan.script("getOrder", "teapot")
    with pytest.raises(ValueError, match="more than 1"):
        plan.randomly({"500": 0.7, "503": 0.5}, seed=1)


def test_the_amazon_emulator_fails_as_scripted_over_http(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    item_id = amazon_emulator.order(order_id)["OrderItems"][0]["OrderItemId"]
    body = {"marketplaceId": amazon_emulator.marketplace_id, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "Royal Mail", "trackingNumber": "RR1GB",
        "shipDate": amazon_emulator.order(order_id)["PurchaseDate"],
        "orderItems": [{"orderItemId": item_id, "quantity": 1}]}}
    path = f"/orders/v0/orders/{order_id}/shipmentConfirmation"
    amazon_emulator.fault_plan.script("confirmShipment", "429", "html_502", "504", "reset", "applied_then_reset")
    throttled = amazon_api.post(path, json=body)
    assert throttled.status_code == 429 and throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    proxy = amazon_api.post(path, json=body)
    assert proxy.status_code == 502 and proxy.headers["Content-Type"] == "text/html"
    assert amazon_api.post(path, json=body).status_code == 504
    with pytest.raises(requests.ConnectionError):
        amazon_api.post(path, json=body)
    assert amazon_emulator.confirmations(order_id) == []  # dropped before it was read: nothing applied
    with pytest.raises(requests.ConnectionError):
        amazon_api.post(path, json=body)
    assert [p["packageReferenceId"] for p in amazon_emulator.confirmations(order_id)] == ["1"]  # applied, reply lost
    assert amazon_api.post(path, json=body).status_code == 204  # the retry edits the same package
    assert len(amazon_emulator.confirmations(order_id)) == 1


def test_faults_are_scripted_from_another_process_too(amazon_emulator):
    url = amazon_emulator.url
    answer = requests.post(f"{url}/_emulator/faults/script", json={"operation": "getOrder", "faults": ["500"]})
    assert answer.json() == {"pending": 1}
    assert requests.post(f"{url}/_emulator/faults/script", json={"operation": "getOrder",
                                                                  "faults": ["boom"]}).status_code == 400
    requests.post(f"{url}/_emulator/faults/random", json={"rates": {"503": 0.5}, "seed": 3})
    assert requests.get(f"{url}/_emulator/faults/fired").json() == {"fired": [], "seed": 3}


@pytest.mark.django_db
def test_the_clarus_emulator_fails_as_scripted_and_a_lost_create_is_not_doubled(clarus_emulator, clarus_tenant,
                                                                               clarus_backoffice):
    from connectors.base import ConnectorError, ThrottledError
    from tests.connectors.backoffice_contract import amazon_order_id, sales_order

    clarus_tenant.add_item("FAULT-1", on_hand=5)
    order = sales_order(amazon_order_id(), clarus_tenant.ship_method, [("76000000000001", "FAULT-1", 1)])
    plan = clarus_emulator.fault_plan
    plan.hold_seconds = 0.1
    plan.script("create_goods_out", "429", "html_502", "applied_then_timeout")
    with pytest.raises(ThrottledError):
        clarus_backoffice.create_sales_order(order)
    with pytest.raises(ConnectorError) as proxy:
        clarus_backoffice.create_sales_order(order)
    assert not proxy.value.permanent and "502" in proxy.value.message
    with pytest.raises(ConnectorError) as lost:
        clarus_backoffice.create_sales_order(order)  # applied, the reply lost: a transient failure
    assert not lost.value.permanent
    assert clarus_tenant.order_count(order.amazon_order_id) == 1
    reference = clarus_backoffice.create_sales_order(order)  # the work item's retry finds it by reference
    assert reference and clarus_tenant.order_count(order.amazon_order_id) == 1
    assert [fault for _, fault in plan.fired] == ["429", "html_502", "applied_then_timeout"]
