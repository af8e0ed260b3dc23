"""Long-poll Amazon's SQS queue for ORDER_CHANGE notifications and request a re-fetch of each order."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from connectors.amazon.notifications import poll_forever, poll_once


class Command(BaseCommand):
    help = "Receive ORDER_CHANGE notifications from SQS (long polling) and hand each new one to the hub."

    def add_arguments(self, parser):
        parser.add_argument("--queue-url", default=getattr(settings, "AMAZON_SQS_QUEUE_URL", ""),
                            help="The SQS queue Amazon's ORDER_CHANGE subscription delivers to.")
        parser.add_argument("--region", default=getattr(settings, "AMAZON_SQS_REGION", "") or None,
                            help="AWS region of the queue (default: from the AWS environment).")
        parser.add_argument("--on-order", default=getattr(settings, "AMAZON_ORDER_CHANGE_HANDLER", ""),
                            help="Dotted path of the function called with each new OrderChange.")
        parser.add_argument("--once", action="store_true", help="Poll once and exit.")

    def handle(self, *args, queue_url, region, on_order, once, **options):
        if not queue_url:
            raise CommandError("no SQS queue: pass --queue-url or set AMAZON_SQS_QUEUE_URL")
        if not on_order:
            raise CommandError("no handler: pass --on-order or set AMAZON_ORDER_CHANGE_HANDLER")
        try:
            callback = import_string(on_order)
        except ImportError as exc:
            raise CommandError(f"--on-order {on_order!r} cannot be imported: {exc}") from None
        import boto3

        sqs = boto3.client("sqs", region_name=region)
        if once:
            count = poll_once(sqs, queue_url, callback)
            self.stdout.write(f"{count} message(s) received")
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        self.stdout.write(f"polling {queue_url} (Ctrl-C or SIGTERM to stop)")
        try:
            poll_forever(sqs, queue_url, callback, should_stop=lambda: bool(stopping))
        except KeyboardInterrupt:
            pass
