"""ORDER_CHANGE over SQS, the fast path: a notification makes the hub re-fetch the order at once."""

import json

import boto3
import pytest
from botocore.stub import Stubber
from django.conf import settings

from connectors.amazon.notifications import poll_once
from integration_hub.orders.choices import OrderStatus
from integration_hub.orders.intake import on_order_change
from integration_hub.orders.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hub-order-change"
SCHEMA = settings.SPAPI_REFERENCE_DIR / "models" / "OrderChangeNotification.json"


def notification(example, notification_id, order_id, seller_id):
    note = json.loads(json.dumps(example))
    note["NotificationMetadata"]["NotificationId"] = notification_id
    note["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = order_id
    note["Payload"]["OrderChangeNotification"]["SellerId"] = seller_id
    return json.dumps(note)


def test_order_change_notification_imports_the_order_once(account, amazon_emulator, work, monkeypatch):
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} not present (HUB_SPAPI_REFERENCE_DIR): the notification example comes from it")
    example = json.loads(SCHEMA.read_text())["examples"][0]
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sqs", region_name="eu-west-1")
    body = notification(example, "note-1", order_id, account.seller_id)
    with Stubber(client) as stubber:
        stubber.add_response("receive_message", {"Messages": [
            {"MessageId": "m0", "ReceiptHandle": "r0", "Body": body},
            {"MessageId": "m1", "ReceiptHandle": "r1", "Body": body},  # SQS delivers at least once
        ]}, {"QueueUrl": QUEUE, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20})
        for n in range(2):
            stubber.add_response("delete_message", {}, {"QueueUrl": QUEUE, "ReceiptHandle": f"r{n}"})
        assert poll_once(client, QUEUE, on_order_change) == 2
    work()
    order = Order.objects.get(account=account, amazon_order_id=order_id)
    assert order.status == OrderStatus.UNSHIPPED
    assert [line.sku for line in order.lines.all()] == ["DEMO-SKU-001"]
