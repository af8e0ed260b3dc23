"""Login with Amazon and Restricted Data Tokens on the SP-API emulator."""

import requests

MARKETPLACE = "A1F83G8C2ARO7P"


def token_request(emulator, **overrides):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": emulator.refresh_token,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        **overrides,
    }
    return requests.post(f"{emulator.url}/auth/o2/token", data=form, timeout=10)


def get_order(emulator, token, order_id):
    return requests.get(
        f"{emulator.url}/orders/v0/orders/{order_id}", headers={"x-amz-access-token": token}, timeout=10
    )


def test_refresh_token_grant_returns_bearer_token_usable_on_sp_api(amazon_emulator):
    answer = token_request(amazon_emulator)
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|")
    order_id = amazon_emulator.make_order()
    assert get_order(amazon_emulator, body["access_token"], order_id).status_code == 200


def test_wrong_client_secret_is_401_invalid_client(amazon_emulator):
    answer = token_request(amazon_emulator, client_secret="not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.json()["error_description"]


def test_wrong_refresh_token_is_400_invalid_grant(amazon_emulator):
    answer = token_request(amazon_emulator, refresh_token="Atzr|revoked")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_unknown_grant_type_is_400(amazon_emulator):
    answer = token_request(amazon_emulator, grant_type="password")
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_client_credentials_grant_needs_an_sp_api_scope(amazon_emulator):
    good = token_request(amazon_emulator, grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    bad = token_request(amazon_emulator, grant_type="client_credentials")
    assert good.status_code == 200 and "refresh_token" not in good.json()
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_scope"


def test_unknown_access_token_is_403_with_errors_envelope(amazon_emulator):
    order_id = amazon_emulator.make_order()
    answer = get_order(amazon_emulator, "Atza|made-up", order_id)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Unauthorized"
    assert answer.headers["x-amzn-RequestId"]


def test_access_token_expires_after_configured_ttl(amazon_emulator):
    amazon_emulator.configure(token_ttl=60)
    token = token_request(amazon_emulator).json()["access_token"]
    order_id = amazon_emulator.make_order()
    assert get_order(amazon_emulator, token, order_id).status_code == 200
    amazon_emulator.advance_clock(61)
    expired = get_order(amazon_emulator, token, order_id)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
    fresh = token_request(amazon_emulator).json()["access_token"]
    assert get_order(amazon_emulator, fresh, order_id).status_code == 200


def test_restricted_data_token_unlocks_shipping_address(amazon_emulator, amazon_api):
    order_id = amazon_emulator.make_order()
    plain = amazon_api.get(f"/orders/v0/orders/{order_id}").json()["payload"]["ShippingAddress"]
    answer = amazon_api.post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": f"/orders/v0/orders/{order_id}",
                    "dataElements": ["shippingAddress", "buyerInfo"],
                }
            ]
        },
    )
    assert answer.status_code == 200
    rdt = answer.json()["restrictedDataToken"]
    assert answer.json()["expiresIn"] == 3600
    full = get_order(amazon_emulator, rdt, order_id).json()["payload"]
    assert "Name" not in plain and "AddressLine1" not in plain and plain["PostalCode"]
    assert full["ShippingAddress"]["Name"] and full["ShippingAddress"]["AddressLine1"]
    assert full["BuyerInfo"]["BuyerName"]


def test_restricted_data_token_request_without_resources_is_400(amazon_api):
    answer = amazon_api.post("/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": []})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"


def test_token_kinds_are_checked_per_operation(amazon_emulator, amazon_api):
    """A grantless token cannot act for the seller, and an RDT only for the calls it was issued for."""
    order_id = amazon_emulator.make_order()
    grantless = token_request(amazon_emulator, grant_type="client_credentials", refresh_token="",
                              scope="sellingpartnerapi::notifications").json()["access_token"]
    refused = get_order(amazon_emulator, grantless, order_id)
    assert refused.status_code == 403 and "grantless" in refused.json()["errors"][0]["details"]
    rdt = amazon_api.post("/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": [
        {"method": "GET", "path": f"/orders/v0/orders/{order_id}", "dataElements": ["buyerInfo"]}]}
    ).json()["restrictedDataToken"]
    assert get_order(amazon_emulator, rdt, order_id).status_code == 200
    confirm = requests.post(f"{amazon_emulator.url}/orders/v0/orders/{order_id}/shipmentConfirmation",
                            headers={"x-amz-access-token": rdt}, json={"marketplaceId": MARKETPLACE}, timeout=10)
    assert confirm.status_code == 403 and "restricted data token" in confirm.json()["errors"][0]["details"]
    other = amazon_emulator.make_order()
    assert get_order(amazon_emulator, rdt, other).status_code == 403
