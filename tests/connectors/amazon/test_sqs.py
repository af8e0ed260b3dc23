"""ORDER_CHANGE notifications: parsing the schema's example, once-only handling, and the SQS poll loop."""

import copy
import json

import boto3
import pytest
from botocore.stub import Stubber
from django.conf import settings
from django.core.management import CommandError, call_command

from connectors.amazon import notifications
from connectors.amazon.notifications import NotificationError, handle_notification, parse_order_change, poll_once
from connectors.models import InboundEvent
from integration_hub.exchanges.models import Exchange

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hub-order-change"
SCHEMA = settings.SPAPI_REFERENCE_DIR / "models" / "OrderChangeNotification.json"


@pytest.fixture
def example():
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} not present (HUB_SPAPI_REFERENCE_DIR)")
    return json.loads(SCHEMA.read_text())["examples"][0]


def with_id(example, notification_id, order_id="903-8868176-2219830"):
    note = copy.deepcopy(example)
    note["NotificationMetadata"]["NotificationId"] = notification_id
    note["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = order_id
    return note


class Calls(list):
    def __call__(self, change):
        self.append(change)


def test_the_schema_example_parses_to_the_order_to_refetch(example):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(example, json.loads(SCHEMA.read_text()))
    change = parse_order_change(json.dumps(example))
    assert change.amazon_order_id == "903-8868176-2219830"
    assert change.notification_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    assert (change.seller_id, change.marketplace_id, change.order_status, change.change_type) == (
        "A3TH9S8BH6GOGM", "ATVPDKIKX0DER", "Unshipped", "BuyerRequestedChange")


@pytest.mark.parametrize(("body", "message"), [
    ("not json", "message body is not JSON"),
    ("[1]", "not a JSON object"),
    ({"NotificationType": "ANY_OFFER_CHANGED"}, "'ANY_OFFER_CHANGED' is not ORDER_CHANGE"),
    ({"NotificationType": "ORDER_CHANGE", "Payload": {}}, "without Payload.OrderChangeNotification"),
])
def test_unreadable_messages_say_what_is_wrong(body, message):
    with pytest.raises(NotificationError, match=message):
        parse_order_change(body)


def test_missing_notification_id_is_refused(example):
    del example["NotificationMetadata"]["NotificationId"]
    with pytest.raises(NotificationError, match="without NotificationMetadata.NotificationId"):
        parse_order_change(example)


@pytest.mark.django_db
def test_a_notification_delivered_twice_prompts_one_refetch(example):
    calls = Calls()
    assert handle_notification(json.dumps(example), calls) == "903-8868176-2219830"
    assert handle_notification(json.dumps(example), calls) is None
    assert [c.amazon_order_id for c in calls] == ["903-8868176-2219830"]
    assert InboundEvent.objects.filter(source="amazon-sqs").count() == 1
    rows = Exchange.objects.filter(operation="ORDER_CHANGE").order_by("pk")
    assert [(r.direction, r.outcome, r.correlation_id) for r in rows] == [("in", "ok", "903-8868176-2219830")] * 2
    assert "duplicate" in rows[1].response_summary


@pytest.mark.django_db
def test_a_failed_callback_leaves_the_notification_unseen_so_its_redelivery_is_handled(example):
    def broken(change):
        raise RuntimeError("database busy")

    with pytest.raises(RuntimeError):
        handle_notification(example, broken)
    assert not InboundEvent.objects.exists()
    calls = Calls()
    assert handle_notification(example, calls) == "903-8868176-2219830"
    assert len(calls) == 1


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sqs", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def receive(stubber, *bodies):
    messages = [{"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": body} for n, body in enumerate(bodies)]
    stubber.add_response("receive_message", {"Messages": messages} if messages else {},
                         {"QueueUrl": QUEUE, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20})


def delete(stubber, n):
    stubber.add_response("delete_message", {}, {"QueueUrl": QUEUE, "ReceiptHandle": f"r{n}"})


@pytest.mark.django_db
def test_poller_hands_new_orders_over_and_deletes_handled_and_unreadable_messages(sqs, example):
    client, stubber = sqs
    first, duplicate, other = (json.dumps(with_id(example, "n1", "202-0000001-0000001")),
                               json.dumps(with_id(example, "n1", "202-0000001-0000001")),
                               json.dumps(with_id(example, "n2", "202-0000002-0000002")))
    receive(stubber, first, "garbage", duplicate, other)
    for n in range(4):
        delete(stubber, n)
    receive(stubber)
    calls = Calls()
    assert poll_once(client, QUEUE, calls) == 4
    assert poll_once(client, QUEUE, calls) == 0
    assert [c.amazon_order_id for c in calls] == ["202-0000001-0000001", "202-0000002-0000002"]


@pytest.mark.django_db
def test_poller_keeps_a_message_whose_handling_failed_for_redelivery(sqs, example):
    client, stubber = sqs
    receive(stubber, json.dumps(example))  # no delete_message expected

    def broken(change):
        raise RuntimeError("database busy")

    assert poll_once(client, QUEUE, broken) == 1
    assert not InboundEvent.objects.exists()


def test_poll_loop_pauses_on_an_sqs_outage_instead_of_ending(sqs):
    client, stubber = sqs
    stubber.add_client_error("receive_message", "AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
    receive(stubber)
    pauses, rounds = [], iter([False, False, True])
    notifications.poll_forever(client, QUEUE, Calls(), should_stop=lambda: next(rounds), error_pause=7,
                               sleep=pauses.append)
    assert pauses == [7]


def test_poller_command_refuses_to_start_without_a_queue():
    with pytest.raises(CommandError, match="no SQS queue"):
        call_command("amazon_sqs_poller")


@pytest.mark.parametrize("arguments", [
    ["--idle-without-queue"],  # the compose service with no queue configured
    ["--queue-url", "http://127.0.0.1:9/123456789012/hub-order-change"],  # polling (an SQS that never answers)
])
def test_poller_stops_at_once_on_sigterm(arguments, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from django.conf import settings

    env = dict(os.environ, HUB_AMAZON_SQS_QUEUE_URL="", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
               HUB_AMAZON_SQS_ENDPOINT="http://127.0.0.1:9")
    poller = subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "amazon_sqs_poller",
                               *arguments], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    assert poller.poll() is None  # still running: idle, or retrying an SQS it cannot reach
    poller.send_signal(signal.SIGTERM)
    assert poller.wait(timeout=5) == 0


def test_the_emulated_queue_delivers_twice_and_out_of_order_when_told_to():
    """SQS standard queues are at least once and unordered; the chaos run makes the emulator so on purpose."""
    from connectors.amazon.emulator.sqs import Queue

    now = [1000.0]
    queue = Queue(lambda: now[0])
    queue.misbehave(duplicate_rate=1.0, late_rate=0.0, seed=3)
    queue.send("first")
    assert [m["body"] for _, m in queue.receive(10, 0, 30)] == ["first", "first"]
    queue.misbehave(duplicate_rate=0.0, late_rate=1.0, late_seconds=5, seed=3)
    queue.send("older")
    queue.misbehave(duplicate_rate=0.0, late_rate=0.0)
    queue.send("newer")
    assert [m["body"] for _, m in queue.receive(10, 0, 30)] == ["newer"]  # the older one is held back
    now[0] += 6
    assert [m["body"] for _, m in queue.receive(10, 0, 30)] == ["older"]
    # The same seed makes the same choices: a chaos run replays.
    picks = []
    for _ in range(2):
        queue = Queue(lambda: now[0])
        queue.misbehave(duplicate_rate=0.3, late_rate=0.3, seed=42)
        for n in range(50):
            queue.send(str(n))
        picks.append((queue.duplicated, queue.delayed))
    assert picks[0] == picks[1] and picks[0][0] > 0 and picks[0][1] > 0
