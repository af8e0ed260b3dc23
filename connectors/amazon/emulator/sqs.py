"""The SQS queue Amazon's ORDER_CHANGE subscription delivers to, served over SQS's JSON protocol.

Amazon publishes an ORDER_CHANGE notification when an order is created, changes status, or its buyer
asks to cancel; the hub long-polls the queue with boto3 (`endpoint_url` = the emulator). Delivery is
SQS's: at least once, a received message hides for its visibility timeout and comes back unless it
is deleted, messages are not ordered. Requests must carry a SigV4 Authorization header (boto3 signs
with any credentials; the signature is not checked).

Protocol: POST / with `X-Amz-Target: AmazonSQS.<Action>` and a JSON body (AWS JSON 1.0). Actions:
ReceiveMessage, DeleteMessage, SendMessage (tests), GetQueueUrl, GetQueueAttributes.

A standard SQS queue also delivers a message twice now and then, and out of order; `Queue.misbehave`
makes it do so on purpose (a share of messages sent twice, a share held back so newer ones overtake
them), with a generator of its own, so a chaos run replays from its seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid

from .web import Response, Routes

routes = Routes()

ACCOUNT = "123456789012"
QUEUE_NAME = "hub-order-change"
DEFAULT_VISIBILITY = 30
MAX_WAIT = 20
MAX_KEPT = 20_000  # a demo left running does not grow without bound: the oldest go first


class Queue:
    """Messages by id; each {"body", "visible_at", "receipt", "receives"}. Time is the emulator's clock."""

    def __init__(self, clock):
        self.clock = clock
        self.messages = {}
        self.ready = threading.Condition()
        self.misbehave(0.0, 0.0)

    def misbehave(self, duplicate_rate, late_rate, late_seconds=5.0, seed=0):
        """Send `duplicate_rate` of messages twice and make `late_rate` visible only `late_seconds` later."""
        with self.ready:
            self.duplicate_rate, self.late_rate, self.late_seconds = duplicate_rate, late_rate, late_seconds
            self._random = random.Random(seed)
            self.duplicated = self.delayed = 0

    def send(self, body):
        with self.ready:
            copies = 2 if self._random.random() < self.duplicate_rate else 1
            late = self._random.random() < self.late_rate
            self.duplicated += copies - 1
            self.delayed += late
            for _ in range(copies):
                message_id = str(uuid.uuid4())
                self.messages[message_id] = {"body": body, "visible_at": self.clock() + self.late_seconds if late
                                             else 0.0, "receipt": "", "receives": 0}
            while len(self.messages) > MAX_KEPT:
                self.messages.pop(next(iter(self.messages)))
            self.ready.notify_all()
            return message_id

    def receive(self, limit, wait, visibility):
        deadline = time.monotonic() + wait
        with self.ready:
            while True:
                now = self.clock()
                due = [(mid, m) for mid, m in self.messages.items() if m["visible_at"] <= now][:limit]
                if due or time.monotonic() >= deadline:
                    break
                self.ready.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            taken = []
            for message_id, message in due:
                message["receipt"] = f"{message_id}:{uuid.uuid4().hex}"
                message["visible_at"] = now + visibility
                message["receives"] += 1
                taken.append((message_id, message))
            return taken

    def delete(self, receipt):
        """Delete by the latest receipt handle; an old handle (the message was received again) is ignored,
        as SQS ignores it once the visibility timeout has passed."""
        message_id = receipt.split(":", 1)[0]
        with self.ready:
            message = self.messages.get(message_id)
            if message is not None and message["receipt"] == receipt:
                del self.messages[message_id]

    def __len__(self):
        return len(self.messages)


def queue_url(state):
    return f"{state.base_url}/{ACCOUNT}/{QUEUE_NAME}"


def order_change(state, record, change_type="OrderStatusChange", reason=""):
    """Publish an ORDER_CHANGE notification for an order (shape of OrderChangeNotification.json)."""
    order, items = record.order, record.items
    summary = {
        "MarketplaceId": order.get("MarketplaceId", state.marketplace_id),
        "OrderStatus": order["OrderStatus"],
        "PurchaseDate": order["PurchaseDate"],
        "DestinationPostalCode": (order.get("ShippingAddress") or {}).get("PostalCode"),
        "FulfillmentType": "AFN" if order.get("FulfillmentChannel") == "AFN" else "MFN",
        "OrderType": order.get("OrderType", "StandardOrder"),
        "NumberOfItemsShipped": order.get("NumberOfItemsShipped", 0),
        "NumberOfItemsUnshipped": order.get("NumberOfItemsUnshipped", 0),
        "OrderItems": [{
            "OrderItemId": item["OrderItemId"], "SellerSKU": item.get("SellerSKU", ""), "SupplySourceId": None,
            "Quantity": item["QuantityOrdered"], "QuantityShipped": item.get("QuantityShipped", 0),
        } for item in items],
    }
    for name in ("EarliestShipDate", "LatestShipDate", "EarliestDeliveryDate", "LatestDeliveryDate"):
        if order.get(name):
            summary[name] = order[name]
    now = state.stamp(state.now())
    body = {
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
        "EventTime": now,
        "Payload": {"OrderChangeNotification": {
            "NotificationLevel": "OrderLevel", "SellerId": state.seller_id, "AmazonOrderId": record.order_id,
            "OrderChangeType": change_type,
            "OrderChangeTrigger": {"TimeOfOrderChange": order.get("LastUpdateDate", now),
                                   "ChangeReason": reason or change_type},
            "Summary": summary,
        }},
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sp.solution.emulator", "SubscriptionId": "emulator-order-change",
            "PublishTime": now, "NotificationId": str(uuid.uuid4()),
        },
    }
    state.sqs.send(json.dumps(body))


def sqs_error(status, code, message):
    body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": f"{code};Sender"}
    return Response(status, body, headers)


def _md5(text):
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


@routes.add("POST", r"/")
def sqs_action(state, request):
    target = request.headers.get("x-amz-target", "")
    if not target.startswith("AmazonSQS."):
        return sqs_error(400, "InvalidAction", "X-Amz-Target must name an AmazonSQS action.")
    if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
        return sqs_error(400, "MissingAuthenticationToken", "Request is missing Authentication Token")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return sqs_error(400, "InvalidParameterValue", "The request body is not JSON.")
    action = target.split(".", 1)[1]
    if action == "GetQueueUrl":
        if body.get("QueueName") != QUEUE_NAME:
            return sqs_error(400, "QueueDoesNotExist", "The specified queue does not exist.")
        return _ok({"QueueUrl": queue_url(state)})
    if body.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1] != QUEUE_NAME:
        return sqs_error(400, "QueueDoesNotExist", "The specified queue does not exist.")
    if action == "ReceiveMessage":
        limit = int(body.get("MaxNumberOfMessages", 1))
        if not 1 <= limit <= 10:
            return sqs_error(400, "InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10.")
        wait = min(int(body.get("WaitTimeSeconds", 0)), MAX_WAIT)
        visibility = int(body.get("VisibilityTimeout", DEFAULT_VISIBILITY))
        taken = state.sqs.receive(limit, wait, visibility)
        return _ok({"Messages": [{"MessageId": mid, "ReceiptHandle": m["receipt"], "MD5OfBody": _md5(m["body"]),
                                  "Body": m["body"]} for mid, m in taken]} if taken else {})
    if action == "DeleteMessage":
        state.sqs.delete(body.get("ReceiptHandle", ""))
        return _ok({})
    if action == "SendMessage":
        text = body.get("MessageBody", "")
        return _ok({"MessageId": state.sqs.send(text), "MD5OfMessageBody": _md5(text)})
    if action == "GetQueueAttributes":
        return _ok({"Attributes": {"ApproximateNumberOfMessages": str(len(state.sqs))}})
    return sqs_error(400, "InvalidAction", f"The action {action} is not valid for this endpoint.")


def _ok(obj):
    return Response(200, json.dumps(obj).encode(), {"Content-Type": "application/x-amz-json-1.0"})
