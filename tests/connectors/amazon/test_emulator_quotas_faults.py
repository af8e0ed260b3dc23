"""Usage-plan token buckets and fault injection on the emulator."""

import time

import requests

from tests.fixtures_amazon import EmulatorSession

QUOTA_BODY = {
    "errors": [
        {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
    ]
}
LONG_AGO = "2020-01-01T00:00:00Z"


def list_orders(api):
    return api.get("/orders/v0/orders", params={"MarketplaceIds": "A1F83G8C2ARO7P", "LastUpdatedAfter": LONG_AGO})


def test_get_orders_allows_a_burst_of_20_then_answers_429_with_amazons_body(amazon_api):
    answers = [list_orders(amazon_api) for _ in range(21)]
    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[-1].json() == QUOTA_BODY
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert answers[0].headers["x-amzn-RequestId"] and answers[-1].headers["x-amzn-RequestId"]
    assert "x-amzn-RateLimit-Limit" not in answers[-1].headers


def test_buckets_refill_at_the_operation_rate(amazon_emulator, amazon_api):
    amazon_emulator.add_listing("DEMO-SKU-001")
    amazon_emulator.set_faults(quota_multiplier=0.2)  # getListingsItem 5/s burst 10 -> 1/s burst 2
    path = f"/listings/2021-08-01/items/{amazon_emulator.seller_id}/DEMO-SKU-001"

    def get_listing():
        return amazon_api.get(path, params={"marketplaceIds": "A1F83G8C2ARO7P"}).status_code

    assert [get_listing() for _ in range(3)] == [200, 200, 429]
    time.sleep(1.05)  # one token back after a second
    assert [get_listing(), get_listing()] == [200, 429]


def test_quotas_are_per_operation(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    for _ in range(20):
        list_orders(amazon_api)
    assert list_orders(amazon_api).status_code == 429
    assert amazon_api.get(f"/orders/v0/orders/{order_id}").status_code == 200


def test_quota_multiplier_raises_burst_and_reported_rate(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(quota_multiplier=10)
    answers = [list_orders(amazon_api) for _ in range(25)]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.167"


def test_reset_between_tests_refills_buckets(amazon_emulator, amazon_api):
    for _ in range(21):
        list_orders(amazon_api)
    amazon_emulator.reset()
    assert list_orders(amazon_api).status_code == 200


def test_throttle_all_storm_answers_429_everywhere(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    amazon_emulator.set_faults(throttle_all=True)
    assert amazon_api.get(f"/orders/v0/orders/{order_id}").json() == QUOTA_BODY
    amazon_emulator.set_faults(throttle_all=False)
    assert amazon_api.get(f"/orders/v0/orders/{order_id}").status_code == 200


def test_error_rate_answers_500_or_503_with_errors_envelope(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    amazon_emulator.set_faults(error_rate=1.0)
    answers = [amazon_api.get(f"/orders/v0/orders/{order_id}") for _ in range(12)]
    assert {a.status_code for a in answers} == {500, 503}
    assert all(a.json()["errors"][0]["code"] in ("InternalFailure", "ServiceUnavailable") for a in answers)


def test_partial_error_rate_fails_some_calls_only(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    amazon_emulator.set_faults(error_rate=0.5)
    codes = [amazon_api.get(f"/orders/v0/orders/{order_id}").status_code for _ in range(30)]
    assert 200 in codes and ({500, 503} & set(codes))


def test_html_502_is_not_json(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(html_502_rate=1.0)
    answer = list_orders(amazon_api)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.text.startswith("<html>")


def test_latency_delays_answers(amazon_emulator, amazon_api):
    amazon_emulator.set_faults(latency_ms=300)
    started = time.monotonic()
    list_orders(amazon_api)
    assert time.monotonic() - started >= 0.3


def test_faults_can_be_set_over_http_from_another_process(amazon_emulator, amazon_api):
    answer = requests.post(f"{amazon_emulator.url}/_emulator/faults", json={"throttle_all": True}, timeout=10)
    assert answer.status_code == 200 and answer.json()["throttle_all"] is True
    assert list_orders(amazon_api).status_code == 429
    unknown = requests.post(f"{amazon_emulator.url}/_emulator/faults", json={"explode": True}, timeout=10)
    assert unknown.status_code == 400 and "explode" in unknown.json()["errors"][0]["message"]


def test_faults_do_not_touch_login_with_amazon(amazon_emulator):
    amazon_emulator.set_faults(error_rate=1.0, throttle_all=True, html_502_rate=1.0)
    with EmulatorSession(amazon_emulator) as session:  # raises unless the token endpoint answers 200
        assert session.headers["x-amz-access-token"].startswith("Atza|")


def test_requests_are_recorded_with_status(amazon_emulator, amazon_api):
    for _ in range(21):
        list_orders(amazon_api)
    assert amazon_emulator.requests[-1] == ("GET", "/orders/v0/orders", 429)


def test_buckets_refill_on_the_emulators_clock(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    path = f"/orders/2026-01-01/orders/{order_id}"
    answers = [amazon_api.get(path, params={"marketplaceIds": "A1F83G8C2ARO7P"}).status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    amazon_emulator.advance_clock(4)  # getOrder refills 0.5 a second: two tokens, no waiting
    again = [amazon_api.get(path, params={"marketplaceIds": "A1F83G8C2ARO7P"}).status_code for _ in range(3)]
    assert again == [200, 200, 429]


def test_a_permanent_fault_refuses_one_call_with_400(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    amazon_emulator.fault_plan.script("getOrder2026", "400")
    path = f"/orders/2026-01-01/orders/{order_id}"
    refused = amazon_api.get(path, params={"marketplaceIds": "A1F83G8C2ARO7P"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput"
    assert amazon_api.get(path, params={"marketplaceIds": "A1F83G8C2ARO7P"}).status_code == 200
