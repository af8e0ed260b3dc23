"""ORDER_CHANGE notifications from Amazon's SQS queue: the fast path that prompts an order re-fetch.

SQS delivers at least once, so each NotificationId is acted on once (`InboundEvent`). The
notification carries no address or buyer data; the hub re-fetches the order for the details.
The scheduled order search stays the backstop for anything a notification misses.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from django.db import transaction

from connectors.choices import System
from connectors.models import InboundEvent
from integration_hub.exchanges.choices import Direction
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)

SOURCE = "amazon-sqs"


class NotificationError(ValueError):
    """A message that is not a readable ORDER_CHANGE notification; the text says what is wrong."""


@dataclass
class OrderChange:
    """What an ORDER_CHANGE notification says: which order changed, for which seller."""

    notification_id: str
    amazon_order_id: str
    seller_id: str
    marketplace_id: str
    order_status: str  # v0 spelling, e.g. "Unshipped"
    change_type: str  # OrderStatusChange, BuyerRequestedChange, DeliveryTipChange
    changed_at: str = ""  # OrderChangeTrigger.TimeOfOrderChange (ISO 8601), or the EventTime
    latest_ship_date: str = ""  # Summary.LatestShipDate (ISO 8601), when Amazon says it


def _field(obj, path):
    value = obj
    for key in path.split("."):
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            raise NotificationError(f"ORDER_CHANGE notification without {path}")
        value = value[key]
    return value


def parse_order_change(body):
    """An OrderChange from an SQS message body (JSON text or already parsed)."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise NotificationError(f"message body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise NotificationError("message body is not a JSON object")
    kind = body.get("NotificationType")
    if kind != "ORDER_CHANGE":
        raise NotificationError(f"notification type {kind!r} is not ORDER_CHANGE")
    change = _field(body, "Payload.OrderChangeNotification")
    return OrderChange(
        notification_id=str(_field(body, "NotificationMetadata.NotificationId")),
        amazon_order_id=_field(change, "AmazonOrderId"),
        seller_id=_field(change, "SellerId"),
        marketplace_id=(change.get("Summary") or {}).get("MarketplaceId", ""),
        order_status=(change.get("Summary") or {}).get("OrderStatus", ""),
        change_type=change.get("OrderChangeType", ""),
        changed_at=str((change.get("OrderChangeTrigger") or {}).get("TimeOfOrderChange")
                       or body.get("EventTime") or ""),
        latest_ship_date=str((change.get("Summary") or {}).get("LatestShipDate") or ""),
    )


def handle_notification(body, on_order):
    """Call `on_order(change)` the first time a notification is seen; return its order id, or None
    for a duplicate. The dedupe row and what the callback writes commit together: if the callback
    fails, the notification counts as unseen and its redelivery is handled."""
    change = parse_order_change(body)
    with record(System.AMAZON, "ORDER_CHANGE", correlation_id=change.amazon_order_id, request=body,
                direction=Direction.INBOUND) as row:
        with transaction.atomic():
            if not InboundEvent.first_time(SOURCE, change.notification_id):
                row.done(response="duplicate notification, ignored")
                return None
            on_order(change)
        row.done(response=f"re-fetch of {change.amazon_order_id} requested")
    return change.amazon_order_id


def poll_once(sqs, queue_url, on_order, *, wait_seconds=20, max_messages=10):
    """One long poll: handle what arrived, delete what was handled or can never be read; return the count."""
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds)
    messages = answer.get("Messages") or []
    for message in messages:
        try:
            handle_notification(message.get("Body", ""), on_order)
        except NotificationError as exc:
            logger.warning("deleting unreadable SQS message %s: %s", message.get("MessageId"), exc)
        except Exception:
            # Left on the queue: SQS redelivers it after the visibility timeout.
            logger.exception("SQS message %s not handled; it will be redelivered", message.get("MessageId"))
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def poll_forever(sqs, queue_url, on_order, *, should_stop=lambda: False, error_pause=30.0, sleep=time.sleep):
    """Long-poll until `should_stop()`; an SQS outage pauses the loop instead of ending it."""
    while not should_stop():
        try:
            poll_once(sqs, queue_url, on_order)
        except Exception as exc:  # noqa: BLE001 - botocore errors: network, credentials, throttling
            logger.warning("SQS receive failed (%s); retrying in %ss", exc, error_pause)
            sleep(error_pause)
