from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from connectors.models import SellerAccount
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.parser import SettlementFileError


def find_account(name):
    """The seller account by name or seller id; with no name, the only account there is."""
    accounts = SellerAccount.objects.all()
    if name:
        accounts = accounts.filter(Q(name=name) | Q(seller_id=name))
    found = list(accounts[:2])
    if len(found) == 1:
        return found[0]
    known = ", ".join(SellerAccount.objects.values_list("name", flat=True)) or "none"
    if not found:
        raise CommandError(f"No seller account {name!r}; the accounts are: {known}.")
    raise CommandError(f"Give --account: there are several seller accounts ({known}).")


class Command(BaseCommand):
    help = "Import a settlement report (V2 flat file, plain or gzipped) downloaded from Seller Central."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the report file.")
        parser.add_argument("--account", default="", help="Seller account name or seller id (optional with one).")
        parser.add_argument("--encoding", default=None, help="Text encoding, when it is not UTF-8/UTF-16/Latin-1.")

    def handle(self, *args, file, account, encoding, **options):
        seller = find_account(account)
        try:
            with open(file, "rb") as stream:
                result = import_settlement(seller, stream, source_name=file.rsplit("/", 1)[-1], encoding=encoding)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except SettlementFileError as exc:
            raise CommandError(f"{file} was not imported: {exc}") from None
        self.stdout.write(result.message)
