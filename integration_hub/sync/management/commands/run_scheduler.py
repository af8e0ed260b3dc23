from django.core.management.base import BaseCommand

from integration_hub.sync.scheduler import run_forever


class Command(BaseCommand):
    help = "Enqueue repeating jobs when due (run exactly one; a second one waits on a lock)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=5.0, help="Seconds between checks.")

    def handle(self, *args, poll, **options):
        run_forever(poll_seconds=poll)
