"""Long-poll Amazon's SQS queue for ORDER_CHANGE notifications and request a re-fetch of each order.

The fast path only: polling (`orders.import`) stays the backstop, so a stopped poller loses nothing.
"""

import signal
import time

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
        parser.add_argument("--idle-without-queue", action="store_true",
                            help="With no queue configured, say so and wait to be stopped instead of failing "
                                 "(a docker compose service that is on whether or not SQS is set up).")

    def handle(self, *args, queue_url, region, once, idle_without_queue, **options):
        signal.signal(signal.SIGTERM, _stop)  # at once, even inside a 20 s long poll; an unfinished
        # message is not deleted, so SQS delivers it again
        if not queue_url:
            if not idle_without_queue:
                raise CommandError("no SQS queue: pass --queue-url or set HUB_AMAZON_SQS_QUEUE_URL")
            self.stderr.write("no SQS queue configured (HUB_AMAZON_SQS_QUEUE_URL): the ORDER_CHANGE fast path is "
                              "off and orders arrive by polling only")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return
        import boto3

        sqs = boto3.client("sqs", region_name=region or "eu-west-1", endpoint_url=settings.AMAZON_SQS_ENDPOINT or None)
        if once:
            count = poll_once(sqs, queue_url, on_order_change)
            self.stdout.write(f"{count} message(s) received")
            return
        self.stdout.write(f"polling {queue_url} (Ctrl-C or SIGTERM to stop)")
        try:
            poll_forever(sqs, queue_url, on_order_change)
        except KeyboardInterrupt:
            pass


def _stop(signum, frame):
    raise KeyboardInterrupt
