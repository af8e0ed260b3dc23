import csv
import io
from pathlib import Path

import tablib
from django.core.management.base import BaseCommand, CommandError

from mappings.resources import RESOURCES, describe_errors


class Command(BaseCommand):
    help = "Load a mapping table from CSV or XLSX: all rows or none; row errors are printed with line numbers."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(RESOURCES))
        parser.add_argument("file")

    def handle(self, *args, kind, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        dataset = load_dataset(path)
        resource = RESOURCES[kind]()
        result = resource.import_data(dataset, dry_run=True, use_transactions=True,
                                      rollback_on_validation_errors=True)
        if result.has_errors() or result.has_validation_errors():
            for line in describe_errors(result):
                self.stderr.write(f"{path.name} {line}")
            raise CommandError(f"{path.name}: nothing imported; fix the rows above and try again")
        result = RESOURCES[kind]().import_data(dataset, dry_run=False, use_transactions=True,
                                                rollback_on_validation_errors=True)
        totals = result.totals
        self.stdout.write(f"{kind}: {totals['new']} new, {totals['update']} updated, {totals['skip']} unchanged")


def load_dataset(path):
    if path.suffix.lower() == ".xlsx":
        return tablib.Dataset().load(path.read_bytes(), format="xlsx")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{path.name}: not UTF-8 text; save the CSV as UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise CommandError(f"{path.name}: the file is empty")
    header, width = rows[0], len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise CommandError(f"{path.name}: line {number} has {len(row)} columns, the header has {width}")
    return tablib.Dataset(*[row for row in rows[1:] if row], headers=header)
