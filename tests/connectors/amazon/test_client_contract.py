"""Contract: what the connector puts on the wire validates against Amazon's official models."""

import datetime as dt
import json

import jsonschema
import pytest
from django.conf import settings
from django.utils import timezone

from connectors.amazon.records import PackageConfirmation, QuantityUpdate

pytestmark = pytest.mark.django_db
MODELS = settings.SPAPI_REFERENCE_DIR / "models"


def model(name):
    path = MODELS / name
    if not path.exists():
        pytest.skip(f"Amazon's model {path} not present (set HUB_SPAPI_REFERENCE_DIR)")
    return json.loads(path.read_text())


def definition_validator(model_name, definition):
    """A validator for one definition of a Swagger 2 model, resolving its #/definitions references."""
    definitions = model(model_name)["definitions"]
    schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def sent(connector):
    """Every request the connector makes, as httpx saw it."""
    requests = []
    original = connector.transport.request

    def spy(method, url, **kwargs):
        response = original(method, url, **kwargs)
        requests.append(response.request)
        return response

    connector.transport.request = spy
    return requests


def bodies(sent, method, path_part):
    return [json.loads(r.content) for r in sent if r.method == method and path_part in r.url.path]


def test_confirm_shipment_body_matches_confirm_shipment_request(connector, amazon_emulator, sent):
    validator = definition_validator("ordersV0.json", "ConfirmShipmentRequest")
    order_id = amazon_emulator.make_order()
    item = connector.get_order(order_id).lines[0].order_item_id
    connector.confirm_shipment(order_id, "A1F83G8C2ARO7P", PackageConfirmation(
        package_reference_id=1, carrier_code="Other", carrier_name="Evri", shipping_method="Standard",
        tracking_number="H01234567890", ship_date=timezone.now(), items=[(item, 1)]))
    [body] = bodies(sent, "POST", "/shipmentConfirmation")
    validator.validate(body)
    assert body["marketplaceId"] == "A1F83G8C2ARO7P" and body["packageDetail"]["carrierName"] == "Evri"
    dt.datetime.fromisoformat(body["packageDetail"]["shipDate"])  # ISO 8601, or Amazon answers 400
    assert body["packageDetail"]["packageReferenceId"].isdigit()


def test_listings_patch_body_matches_listings_item_patch_request(connector, amazon_emulator, sent):
    validator = definition_validator("listingsItems_2021-08-01.json", "ListingsItemPatchRequest")
    amazon_emulator.add_listing("SKU-1", handling_days=4)
    connector.update_quantity(QuantityUpdate("SKU-1", 12, None))
    [body] = bodies(sent, "PATCH", "/listings/2021-08-01/items/")
    validator.validate(body)
    [value] = body["patches"][0]["value"]
    assert value == {"fulfillment_channel_code": "DEFAULT", "quantity": 12, "lead_time_to_ship_max_days": 4}


def test_quantity_feed_document_matches_the_json_listings_feed_schema(connector, amazon_emulator, sent):
    schema = model("listings-feed-schema-v2.json")
    amazon_emulator.set_faults(quota_multiplier=10)
    connector.submit_quantity_feed([QuantityUpdate("SKU-Ä", 3, 1), QuantityUpdate("SKU-2", 0, 2, "SHOES")])
    [upload] = [r for r in sent if r.method == "PUT"]
    assert upload.headers["content-type"] == "application/json; charset=UTF-8"
    document = json.loads(upload.content.decode("utf-8"))  # UTF-8 bytes, not the library's ISO-8859-1
    jsonschema.Draft7Validator(schema).validate(document)
    assert [m["sku"] for m in document["messages"]] == ["SKU-Ä", "SKU-2"]
    [create] = bodies(sent, "POST", "/feeds/2021-06-30/feeds")
    assert (create["feedType"], create["marketplaceIds"]) == ("JSON_LISTINGS_FEED", ["A1F83G8C2ARO7P"])
