import sys

from django.core.management.base import BaseCommand

from mappings.resources import RESOURCES


class Command(BaseCommand):
    help = "Write a mapping table as CSV or XLSX (to keep it in version control)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(RESOURCES))
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, kind, format, output, **options):
        dataset = RESOURCES[kind]().export()
        data = dataset.export(format)
        if output:
            mode = "wb" if isinstance(data, bytes) else "w"
            with open(output, mode) as handle:
                handle.write(data)
            self.stderr.write(f"{len(dataset)} {kind} rows written to {output}")
        elif isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            self.stdout.write(data, ending="")
