"""Re-encrypt every stored secret and buyer field with the current (first) key of its purpose.

Rotation: put a new key in front of HUB_CREDENTIALS_KEYS or HUB_BUYER_DATA_KEYS (the old one
stays behind it, so everything still reads), restart, run this command, then drop the old key.
It works in batches by primary key, each batch in its own transaction; a value already under the
current key is left alone, so an interrupted run is resumed by running it again. Rows changed
while it runs are not overwritten (each update checks the value it read). It ends with one JSON
line of counts per field; the exit status is non-zero if any value could not be decrypted.
"""

import json

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from integration_hub.core.fields import EncryptedTextField, is_current, reencrypt


def encrypted_fields(purpose=None):
    """(model, field) for every encrypted column, optionally of one purpose."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField) and purpose in (None, field.purpose):
                yield model, field


class Command(BaseCommand):
    help = "Re-encrypt stored credentials and buyer data with the current key of each purpose."

    def add_arguments(self, parser):
        parser.add_argument("--purpose", choices=["credentials", "buyer_data"],
                            help="only this purpose's fields (default: both)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")

    def handle(self, *args, purpose=None, batch_size=500, dry_run=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        report, failed = {}, 0
        for model, field in encrypted_fields(purpose):
            counts = self.rotate_field(model, field, batch_size, dry_run)
            report[f"{model._meta.label}.{field.name}"] = counts
            failed += counts["undecryptable"]
            self.stdout.write(f"{model._meta.label}.{field.name} ({field.purpose}): {counts['rotated']} "
                              f"re-encrypted, {counts['current']} already current, "
                              f"{counts['undecryptable']} undecryptable")
        totals = {key: sum(counts[key] for counts in report.values())
                  for key in ("scanned", "rotated", "current", "undecryptable")}
        self.stdout.write(json.dumps({"rotate_keys": totals, "dry_run": dry_run, "fields": report}))
        if failed:
            raise CommandError(f"{failed} stored values could not be decrypted with any configured key "
                               "(listed above by field); nothing else was lost")

    def rotate_field(self, model, field, batch_size, dry_run):
        table, column = model._meta.db_table, field.column
        pk = model._meta.pk.column
        quote = connection.ops.quote_name
        select = (f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "
                  f"WHERE {quote(pk)} > %s AND {quote(column)} <> '' ORDER BY {quote(pk)} LIMIT %s")
        update = (f"UPDATE {quote(table)} SET {quote(column)} = %s "
                  f"WHERE {quote(pk)} = %s AND {quote(column)} = %s")
        counts = {"scanned": 0, "rotated": 0, "current": 0, "undecryptable": 0}
        last = 0 if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField") else ""
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select, [last, batch_size])
                rows = cursor.fetchall()
                if not rows:
                    return counts
                changes = []
                for key, token in rows:
                    counts["scanned"] += 1
                    if is_current(token, field.purpose):
                        counts["current"] += 1
                        continue
                    try:
                        changes.append((reencrypt(token, field.purpose), key, token))
                    except ValueError:
                        counts["undecryptable"] += 1
                        self.stderr.write(f"{model._meta.label}.{field.name} pk={key}: cannot be decrypted")
                if changes and not dry_run:
                    cursor.executemany(update, changes)
                counts["rotated"] += len(changes)
                last = rows[-1][0]
