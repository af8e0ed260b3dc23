from django.core.management.base import BaseCommand, CommandError

from integration_hub.finance import exports
from integration_hub.finance.management.commands.import_settlement import find_account
from integration_hub.finance.models import Settlement


class Command(BaseCommand):
    help = "Write a settlement's journal as CSV, or journal and reconciliation as XLSX."

    def add_arguments(self, parser):
        parser.add_argument("settlement_id")
        parser.add_argument("--format", choices=sorted(exports.FORMATS), default="csv")
        parser.add_argument("--output", default="", help="File to write (default: journal-<settlement id>.<format>).")
        parser.add_argument("--account", default="", help="Seller account, when two accounts share a settlement id.")

    def handle(self, *args, settlement_id, format, output, account, **options):
        settlements = Settlement.objects.filter(settlement_id=settlement_id)
        if account:
            settlements = settlements.filter(account=find_account(account))
        found = list(settlements[:2])
        if not found:
            raise CommandError(f"No settlement {settlement_id} has been imported.")
        if len(found) > 1:
            raise CommandError(f"Settlement {settlement_id} exists for several accounts: give --account.")
        settlement = found[0]
        try:
            content = exports.export_journal(settlement, format)
        except exports.JournalNotReady as exc:
            raise CommandError(f"Nothing to export: {exc}.") from None
        path = output or exports.filename(settlement, format)
        with open(path, "wb") as out:
            out.write(content)
        self.stdout.write(f"Wrote {path}")
