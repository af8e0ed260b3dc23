"""Long-poll Amazon's SQS queue for ORDER_CHANGE notifications and request a re-fetch of each order.

The fast path only: polling (`orders.import`) stays the backstop, so a stopped poller loses nothing.
"""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.amazon.notifications import poll_forever, poll_once
from integration_hub.orders.intake import on_order_change


class Command(BaseCommand):
    help = "Receive ORDER_CHANGE notifications from SQS (long polling) and queue a re-fetch of each order."

    def add_arguments(self, parser):
        parser.add_argument("--queue-url", default=settings.AMAZON_SQS_QUEUE_URL,
                            help="The SQS queue Amazon's ORDER_CHANGE subscription delivers to.")
        parser.add_argument("--region", default=settings.AMAZON_SQS_REGION or None,
                            help="AWS region of the queue (default: from the AWS environment).")
        parser.add_argument("--once", action="store_true", help="Poll once and exit.")

    def handle(self, *args, queue_url, region, once, **options):
        if not queue_url:
            raise CommandError("no SQS queue: pass --queue-url or set HUB_AMAZON_SQS_QUEUE_URL")
        import boto3

        sqs = boto3.client("sqs", region_name=region)
        if once:
            count = poll_once(sqs, queue_url, on_order_change)
            self.stdout.write(f"{count} message(s) received")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write(f"polling {queue_url} (Ctrl-C or SIGTERM to stop)")
        try:
            poll_forever(sqs, queue_url, on_order_change, should_stop=lambda: bool(stopping))
        except KeyboardInterrupt:
            pass
