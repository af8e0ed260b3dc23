"""The journal and reconciliation as finance downloads them: CSV (the journal) or XLSX (both sheets).

Every text cell goes through `safe_row`: a settlement description or an order id beginning with
`=`, `+`, `-` or `@` cannot become a formula in the finance team's spreadsheet.
"""

import tablib

from integration_hub.core.spreadsheet import safe_row
from integration_hub.finance.choices import JournalState

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
JOURNAL_HEADERS = ["Date", "Account", "Description", "Debit", "Credit", "Reference", "Currency", "Marketplace",
                   "Period", "Status"]
RECONCILIATION_HEADERS = ["Category", "Order id", "SKU", "Quantity settled", "Quantity dispatched",
                          "Settled amount", "Order amount", "Back-office ref", "Back-office status", "Note",
                          "Reference"]


class JournalNotReady(ValueError):
    """The journal is held for GL mapping: there is nothing balanced to download yet."""


def journal_dataset(settlement):
    held = settlement.journals.filter(state=JournalState.NEEDS_MAPPING).exists()
    if held:
        combos = ", ".join(str(combo) for combo in settlement.unmapped.all())
        raise JournalNotReady(f"the journal for settlement {settlement.settlement_id} needs GL mapping for {combos}")
    data = tablib.Dataset(headers=JOURNAL_HEADERS, title="Journal")
    for journal in settlement.journals.prefetch_related("lines"):
        for line in journal.lines.all():
            data.append(safe_row([journal.date, line.gl_account, line.full_description, line.debit or None,
                                  line.credit or None, settlement.settlement_id, line.currency, line.marketplace,
                                  f"{journal.period:%Y-%m}", journal.get_state_display()]))
    return data


def reconciliation_dataset(settlement):
    data = tablib.Dataset(headers=RECONCILIATION_HEADERS, title="Reconciliation")
    for line in settlement.reconciliation_lines.all().iterator(chunk_size=2000):
        data.append(safe_row([line.get_category_display(), line.order_id, line.sku, line.quantity_settled,
                              line.quantity_dispatched, line.settled_amount, line.order_amount, line.back_office_ref,
                              line.back_office_status, line.note, settlement.settlement_id]))
    return data


def export_journal(settlement, fmt):
    """The file's bytes: CSV holds the journal; XLSX holds the journal and the reconciliation sheets."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    journal = journal_dataset(settlement)
    if fmt == "csv":
        return journal.export("csv").encode("utf-8")
    return tablib.Databook([journal, reconciliation_dataset(settlement)]).export("xlsx")


def filename(settlement, fmt):
    return f"journal-{settlement.settlement_id}.{fmt}"
