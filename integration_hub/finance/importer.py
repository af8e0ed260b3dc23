"""Import one settlement report: parse, check, store its lines, build its journal, then reconcile.

One pass over the file inside one transaction: the lines are streamed into Postgres with COPY
while the journal sums are gathered, and a bad line or a wrong total rolls everything back, so
nothing is ever half-imported. The reconciliation runs after the commit because it may ask the
back office about orders over the network.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from integration_hub.finance.journal import Categoriser, JournalBuilder, save_draft
from integration_hub.finance.models import Settlement
from integration_hub.finance.parser import SettlementReader
from integration_hub.finance.reconcile import reconcile

logger = logging.getLogger(__name__)

COPY_LINES = (
    "COPY finance_settlementline (settlement_id, line_number, transaction_type, order_id, merchant_order_id, "
    "adjustment_id, shipment_id, marketplace_name, amount_type, amount_description, fulfillment_id, "
    "order_item_code, sku, promotion_id, amount, posted_date, quantity_purchased) FROM STDIN"
)  # the settlement, then the fields of parser.Row in order


@dataclass
class ImportResult:
    settlement: Settlement
    created: bool

    @property
    def message(self):
        s = self.settlement
        if not self.created:
            return (f"Settlement {s.settlement_id} was already imported on {s.imported_at:%Y-%m-%d %H:%M} "
                    f"({s.line_count} lines); nothing changed.")
        if s.needs_mapping:
            held = ", ".join(str(combo) for combo in s.unmapped.all())
            return (f"Imported settlement {s.settlement_id} ({s.line_count} lines, {s.total_amount} {s.currency}); "
                    f"the journal needs mapping for: {held}.")
        return (f"Imported settlement {s.settlement_id} ({s.line_count} lines, {s.total_amount} {s.currency}); "
                f"journal ready in {s.journals.count()} part(s).")


def import_settlement(account, stream, source_name="", encoding=None, check_back_office=True, progress=None,
                      progress_every=2000):
    """Import a settlement report from a binary stream (plain or gzip). Raises SettlementFileError.
    `progress(lines so far)` is called every `progress_every` lines (an upload's progress bar)."""
    reader = SettlementReader(stream, encoding=encoding)
    summary = reader.summary
    existing = Settlement.objects.filter(account=account, settlement_id=summary.settlement_id).first()
    if existing:
        return _already_imported(existing, check_back_office)
    builder = JournalBuilder(summary, Categoriser())
    try:
        with transaction.atomic():
            settlement = Settlement.objects.create(
                account=account, settlement_id=summary.settlement_id, start_date=summary.start_date,
                end_date=summary.end_date, deposit_date=summary.deposit_date, total_amount=summary.total_amount,
                currency=summary.currency, source_name=source_name[:255],
            )
            with connection.cursor() as cursor, cursor.cursor.copy(COPY_LINES) as copy:
                for row in reader.rows():
                    builder.add(row)
                    copy.write_row((settlement.pk, *row))
                    if progress is not None and reader.count % progress_every == 0:
                        progress(reader.count)
            reader.check_total()
            settlement.line_count = reader.count
            settlement.save(update_fields=["line_count"])
            save_draft(settlement, builder.build())
    except IntegrityError:
        # Another import of the same settlement committed first.
        existing = Settlement.objects.filter(account=account, settlement_id=summary.settlement_id).first()
        if existing is None:
            raise
        return _already_imported(existing, check_back_office)
    logger.info("imported settlement %s for %s: %s lines", settlement.settlement_id, account, reader.count)
    reconcile(settlement, check_back_office=check_back_office)
    return ImportResult(settlement, created=True)


def _already_imported(settlement, check_back_office):
    if settlement.reconciled_at is None:  # the import committed but its reconciliation never ran
        reconcile(settlement, check_back_office=check_back_office)
    return ImportResult(settlement, created=False)
