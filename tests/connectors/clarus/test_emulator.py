"""The Clarus emulator itself, over loopback HTTP: auth, tenants, ids, paging, the goods-out state machine."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.clarus.emulator import ClarusEmulator


class Api:
    """A logged-in HTTP session on one emulator tenant."""

    def __init__(self, emulator, tenant, prefix="/api"):
        self.url, self.prefix, self.tenant = emulator.url, prefix, tenant
        token = requests.post(f"{self.url}/oauth/token", headers={"X-Clarus-Subdomain": tenant.subdomain}, data={
            "grant_type": "client_credentials", "client_id": tenant.client_id,
            "client_secret": tenant.client_secret}).json()["access_token"]
        self.headers = {"X-Clarus-Subdomain": tenant.subdomain, "Authorization": f"Bearer {token}"}

    def post(self, path, body):
        return requests.post(f"{self.url}{self.prefix}/{path}", json=body, headers=self.headers, timeout=5)

    def patch(self, path, body):
        return requests.patch(f"{self.url}{self.prefix}/{path}", json=body, headers=self.headers, timeout=5)

    def get(self, path):
        return requests.get(f"{self.url}{self.prefix}/{path}", headers=self.headers, timeout=5)

    def graphql(self, query, **variables):
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables},
                                 headers=self.headers, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def goods_out(self, reference, lines, **attributes):
        return self.post("goods_outs", {"data": {"type": "goods_outs", "attributes": {
            "goods_out_type": "sales_order", "reference": reference, "account_id": self.tenant.account_id,
            "warehouse_id": self.tenant.warehouse_id, **attributes,
            "lines_changes": [{"type": "ADD", "attributes": {"product_id": pid, "order_quantity": qty,
                                                             "alt_line_reference": f"L{pid}"}} for pid, qty in lines],
        }, "relationships": {"address": {"data": {"type": "addresses", "attributes": {
            "name": "Jane Buyer", "address_1": "1 High Street", "postcode": "LS1 4AB", "country_code": "GB"}}}}}})

    def picks(self, ids):
        return self.post("goods_out_processes/process_picks_async", {"ids": ids})

    def balance(self, code):
        data = self.graphql('query($c: String!) { stock_balances(filter: {product_code: {eq: $c}}) '
                            '{ edges { node { available allocated } } } }', c=code)
        return data["data"]["stock_balances"]["edges"][0]["node"]


@pytest.fixture
def api(clarus_emulator, clarus_tenant):
    return Api(clarus_emulator, clarus_tenant)


def test_calls_without_a_valid_token_for_the_subdomain_are_401(clarus_emulator, clarus_tenant, api):
    url = f"{clarus_emulator.url}/graphql"
    query = {"query": "{ products { totalCount } }"}
    sub = {"X-Clarus-Subdomain": clarus_tenant.subdomain}
    assert requests.post(url, json=query, headers=sub).status_code == 401
    assert requests.post(url, json=query, headers={**sub, "Authorization": "Bearer nope"}).status_code == 401
    other = clarus_emulator.add_tenant(f"{clarus_tenant.subdomain}-b", "b", "b-secret")
    assert requests.post(url, json=query, headers={**api.headers, "X-Clarus-Subdomain": other.subdomain}
                         ).status_code == 401
    assert requests.post(url, json=query, headers=api.headers).status_code == 200


def test_missing_subdomain_header_is_400_and_wrong_secret_401(clarus_emulator, clarus_tenant, api):
    headers = {k: v for k, v in api.headers.items() if k != "X-Clarus-Subdomain"}
    response = requests.post(f"{clarus_emulator.url}/graphql", json={"query": "{ products { totalCount } }"},
                             headers=headers)
    assert response.status_code == 400
    assert "X-Clarus-Subdomain" in response.json()["errors"][0]["detail"]
    bad = requests.post(f"{clarus_emulator.url}/oauth/token", headers={"X-Clarus-Subdomain": clarus_tenant.subdomain},
                        data={"grant_type": "client_credentials", "client_id": clarus_tenant.client_id,
                              "client_secret": "wrong"})
    assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}


def test_tenants_never_see_each_others_data(clarus_emulator, clarus_tenant, api):
    other_tenant = clarus_emulator.add_tenant(f"{clarus_tenant.subdomain}-x", "x", "x-secret")
    other = Api(clarus_emulator, other_tenant)
    mine = clarus_tenant.add_item("SHARED-CODE", on_hand=4)["id"]
    other_tenant.add_item("SHARED-CODE", on_hand=9)
    created = api.goods_out("ISO-1", [(mine, 1)]).json()["data"]["id"]
    assert other.get(f"goods_outs/{created}").status_code == 404
    assert other.graphql('{ goods_outs(filter: {reference: {eq: "ISO-1"}}) { totalCount } }')["data"] == \
        {"goods_outs": {"totalCount": 0}}
    assert other.balance("SHARED-CODE") == {"available": 9, "allocated": 0}
    assert api.balance("SHARED-CODE") == {"available": 4, "allocated": 0}
    assert other.goods_out("ISO-2", [(mine, 1)]).status_code == 422  # my product id means nothing there


def test_rest_ids_are_integers_and_graphql_ids_strings_on_both_api_prefixes(clarus_emulator, clarus_tenant):
    product = clarus_tenant.add_item("IDS-1", on_hand=2)["id"]
    for prefix in ("/api", "/api/v1"):
        api = Api(clarus_emulator, clarus_tenant, prefix)
        rest_id = api.goods_out(f"IDS{prefix}", [(product, 1)]).json()["data"]["id"]
        assert isinstance(rest_id, int)
        assert api.get(f"goods_outs/{rest_id}").json()["data"]["id"] == rest_id
        node = api.graphql('query($r: String!) { goods_outs(filter: {reference: {eq: $r}}) '
                           '{ edges { node { id } } } }', r=f"IDS{prefix}")["data"]["goods_outs"]["edges"][0]["node"]
        assert node["id"] == str(rest_id)


def test_relay_paging_with_first_and_after(clarus_tenant, api):
    for n in range(7):
        clarus_tenant.add_item(f"PAGE-{n}")
    query = ('query($after: String) { products(filter: {code: {like: "PAGE-%"}}, first: 3, after: $after) '
             '{ edges { node { code } } pageInfo { hasNextPage endCursor } totalCount } }')
    codes, after, pages = [], None, 0
    while True:
        page = api.graphql(query, after=after)["data"]["products"]
        assert page["totalCount"] == 7
        codes += [edge["node"]["code"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert codes == [f"PAGE-{n}" for n in range(7)]
    assert "invalid cursor" in api.graphql(query, after="garbage")["errors"][0]["message"]


def test_filters_use_clarus_operators(clarus_tenant, api):
    for code in ("ALPHA-1", "alpha-2", "BETA-1"):
        clarus_tenant.add_item(code)

    def codes(literal):
        data = api.graphql(f"{{ products(filter: {{{literal}}}) {{ edges {{ node {{ code }} }} }} }}")["data"]
        return sorted(edge["node"]["code"] for edge in data["products"]["edges"])
    assert codes('code: {ilike: "alpha%"}') == ["ALPHA-1", "alpha-2"]
    assert codes('code: {like: "alpha%"}') == ["alpha-2"]
    assert codes('code: {in: ["BETA-1", "NONE"]}') == ["BETA-1"]
    assert "DateTime cannot represent" in api.graphql(
        '{ shipments(filter: {dispatched_at: {gteq: "yesterday"}}) { totalCount } }')["errors"][0]["message"]


def test_process_picks_error_codes_and_allocation(clarus_tenant, api):
    product = clarus_tenant.add_item("PICK-1", on_hand=5)["id"]
    first = api.goods_out("PICK-A", [(product, 3)]).json()["data"]["id"]
    second = api.goods_out("PICK-B", [(product, 3)]).json()["data"]["id"]

    def codes(response):
        return response.status_code, response.json()["errors"][0]["code"]

    assert codes(api.picks([])) == (422, "36")
    assert codes(api.picks([first, 999999999])) == (422, "37")
    assert api.picks([first]).json() == {"data": {"process_references": [f"PRC{first}"]}}
    assert api.balance("PICK-1") == {"available": 2, "allocated": 3}
    assert codes(api.picks([first])) == (422, "59")
    assert codes(api.picks([second])) == (422, "39")
    assert api.balance("PICK-1") == {"available": 2, "allocated": 3}  # a failed allocation changes nothing


def test_goods_out_moves_from_draft_to_completed_and_dispatch_reduces_stock(clarus_tenant, api):
    product = clarus_tenant.add_item("FLOW-1", on_hand=10)["id"]
    created = api.goods_out("FLOW-A", []).json()["data"]
    assert created["attributes"]["goods_out_status_code"] == "DRAFT"
    patched = api.patch(f"goods_outs/{created['id']}", {"data": {"type": "goods_outs", "attributes": {
        "lines_changes": [{"type": "ADD", "attributes": {"product_id": product, "order_quantity": 4,
                                                         "alt_line_reference": "A1"}}]}}}).json()["data"]
    assert patched["attributes"]["goods_out_status_code"] == "PENDING"
    api.picks([created["id"]])
    assert api.get(f"goods_outs/{created['id']}").json()["data"]["attributes"]["goods_out_status_code"] == "ALLOCATED"
    clarus_tenant.dispatch("FLOW-A", [{"tracking_number": "T1", "lines": {"A1": 3}}])  # one short
    done = api.get(f"goods_outs/{created['id']}").json()["data"]
    assert done["attributes"]["goods_out_status_code"] == "COMPLETED"
    assert done["attributes"]["actual_date_of_dispatch"]
    line = done["relationships"]["goods_out_lines"]["data"][0]["attributes"]
    assert (line["dispatch_quantity"], line["short_status"]) == (3, "SHORT")
    stock = clarus_tenant.stock("FLOW-1")["attributes"]
    assert (stock["on_hand"], stock["allocated"], stock["available"]) == (7, 0, 7)
    assert api.balance("FLOW-1") == {"available": 7, "allocated": 0}
    refused = api.post(f"goods_outs/{created['id']}/cancel", {})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "goods_out_already_dispatched"


def test_cancel_releases_the_allocation(clarus_tenant, api):
    product = clarus_tenant.add_item("CANCEL-1", on_hand=4)["id"]
    created = api.goods_out("CANCEL-A", [(product, 3)]).json()["data"]["id"]
    api.picks([created])
    cancelled = api.post(f"goods_outs/{created}/cancel", {}).json()["data"]
    assert cancelled["attributes"]["goods_out_status_code"] == "CANCELLED"
    assert api.balance("CANCEL-1") == {"available": 4, "allocated": 0}


def test_unknown_product_on_create_is_a_json_api_error_naming_it(clarus_tenant, api):
    response = api.goods_out("BAD-1", [(424242, 1)], country_code="GB")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert "424242" in error["detail"]
    assert error["source"]["pointer"] == "/data/attributes/lines_changes/0/attributes/product_id"
    assert clarus_tenant.order_count("BAD-1") == 0


def test_operator_endpoints_adjust_and_hold_stock(clarus_emulator, clarus_tenant, api):
    clarus_tenant.add_item("OPS-1", on_hand=10)
    admin = f"{clarus_emulator.url}/_emulator"
    sub = clarus_tenant.subdomain
    assert requests.post(f"{admin}/adjust_stock", json={"subdomain": sub, "item_code": "OPS-1", "quantity": -3}
                         ).status_code == 200
    held = requests.post(f"{admin}/hold_stock", json={"subdomain": sub, "item_code": "OPS-1", "quantity": 2}).json()
    assert held["data"]["attributes"]["held"] == 2
    assert api.balance("OPS-1") == {"available": 5, "allocated": 0}
    bad = requests.post(f"{admin}/hold_stock", json={"subdomain": sub, "item_code": "OPS-1", "quantity": 99})
    assert bad.status_code == 422
    typo = requests.post(f"{admin}/adjust_stock", json={"subdomain": sub, "code": "OPS-1", "quantity": 1})
    assert typo.status_code == 400 and "adjust_stock" in typo.json()["errors"][0]["detail"]


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.server.headers.append(self.headers)  # case-insensitive, as HTTP header names are
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _webhook_run(seed, deterministic, dropped_header=""):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.bodies, receiver.headers = [], []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    emulator = ClarusEmulator(seed=seed, deterministic=deterministic).start()
    emulator.webhooks.dropped_header = dropped_header
    try:
        tenant = emulator.add_tenant("hooks", "c", "s", webhook_url=f"http://127.0.0.1:{receiver.server_port}/")
        tenant.add_item("HOOK-STOCK", on_hand=100)
        for n in range(8):
            tenant.adjust_stock("HOOK-STOCK", n + 1)
        assert emulator.wait_for_webhooks()
        return [body["data"]["attributes"]["quantity_change"] for body in receiver.bodies], receiver.headers
    finally:
        emulator.stop()
        receiver.shutdown()


def test_webhooks_are_deterministic_on_request_and_seeded_chaos_replays():
    in_order, headers = _webhook_run(seed=1, deterministic=True)
    assert in_order == list(range(1, 9))
    assert headers[0]["X-ClarusWMS-Subdomain"] == "hooks" and headers[0]["X-ClarusWMS-Automation-ID"] == "102"
    chaos, _ = _webhook_run(seed=3, deterministic=False)
    assert sorted(set(chaos)) == list(range(1, 9))  # at least once each
    assert chaos != in_order
    assert _webhook_run(seed=3, deterministic=False)[0] == chaos


def test_a_webhook_header_can_be_left_out_for_negative_tests():
    _, headers = _webhook_run(seed=1, deterministic=True, dropped_header="X-ClarusWMS-Subdomain")
    assert "X-ClarusWMS-Subdomain" not in headers[0] and headers[0]["X-ClarusWMS-Domain"] == "hooks.claruswms.emulator"
