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


@pytest.fixture
def emulator_sqs(amazon_emulator, monkeypatch):
    """boto3 talking SQS's JSON protocol to the emulator, as `make run`'s poller does."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator")
    return boto3.client("sqs", region_name="eu-west-1", endpoint_url=amazon_emulator.url)


def test_the_emulator_publishes_order_changes_and_the_poller_imports_each_order_once(
        account, amazon_emulator, emulator_sqs, work):
    url = amazon_emulator.sqs_queue_url
    first = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    second = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 2}])
    amazon_emulator.cancel_order(second)
    assert poll_once(emulator_sqs, url, on_order_change, wait_seconds=1) == 3
    assert poll_once(emulator_sqs, url, on_order_change, wait_seconds=0) == 0  # handled ones were deleted
    work()
    orders = {o.amazon_order_id: o for o in Order.objects.filter(account=account)}
    assert orders[first].status == OrderStatus.UNSHIPPED
    assert orders[second].status == OrderStatus.CANCELLED
    assert not [r for r in amazon_emulator.requests if "/orders/2026-01-01/orders" == r[1]]  # no search needed


def test_a_notification_not_deleted_is_delivered_again_after_its_visibility_timeout(
        account, amazon_emulator, emulator_sqs):
    url = amazon_emulator.sqs_queue_url
    amazon_emulator.make_order()
    taken = emulator_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                         VisibilityTimeout=30)["Messages"]
    assert len(taken) == 1
    assert "Messages" not in emulator_sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    amazon_emulator.advance_clock(31)  # the worker that took it died before deleting it
    again = emulator_sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert again[0]["MessageId"] == taken[0]["MessageId"]
    emulator_sqs.delete_message(QueueUrl=url, ReceiptHandle=taken[0]["ReceiptHandle"])  # stale handle: kept
    emulator_sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    amazon_emulator.advance_clock(31)
    assert "Messages" not in emulator_sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_a_notified_read_ranks_by_the_ship_by_amazon_names_so_sends_due_sooner_go_first(account):
    """Found by the chaos run: notified reads ranked ahead of every send (as if due in 30 minutes), so on
    a busy day the orders lane read new orders and never sent the ones already read to the warehouse."""
    import datetime as dt

    from django.utils import timezone

    from connectors.amazon.notifications import parse_order_change
    from integration_hub.sync import engine
    from integration_hub.sync.choices import WorkKind

    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} not present (HUB_SPAPI_REFERENCE_DIR)")
    now = timezone.now()
    engine.submit(WorkKind.SEND_ORDER, f"{account.pk}:203-0000000-0000001", account=account,
                  priority_at=now + dt.timedelta(hours=6))
    note = json.loads(notification(json.loads(SCHEMA.read_text())["examples"][0], "note-9", "203-0000000-0000002",
                                   account.seller_id))
    summary = note["Payload"]["OrderChangeNotification"]["Summary"]
    summary["LatestShipDate"] = (now + dt.timedelta(days=2)).isoformat()
    on_order_change(parse_order_change(json.dumps(note)))
    first = engine.claim_next("orders")
    assert first.kind == WorkKind.SEND_ORDER, "the send due in 6 h goes before a read of an order due in 2 days"
    second = engine.claim_next("orders")
    assert second.kind == WorkKind.IMPORT_ORDER
    assert abs((second.priority_at - (now + dt.timedelta(days=2))).total_seconds()) < 1
