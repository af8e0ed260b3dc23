import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from integration_hub.finance.exports import JournalNotReady, export_journal
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.models import Settlement
from tests.factories import OrderFactory, OrderLineFactory, SellerAccountFactory, ShipmentLineFactory
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream

pytestmark = pytest.mark.django_db
SPLIT = (order_lines("202-0000001-0000001", "MUG", "10.00", posted="2026-10-30")
         + order_lines("202-0000002-0000002", "MUG", "30.00", posted="2026-11-02"))


def split_settlement(account):
    order = OrderFactory(account=account, amazon_order_id="202-0000001-0000001")
    ShipmentLineFactory(shipment__order=order, order_line=OrderLineFactory(order=order, sku="MUG",
                                                                           item_price=Decimal("10.00")))
    return import_settlement(account, as_stream(settlement_text(SPLIT, start="2026-10-25 00:00:00 UTC"))).settlement


def test_xlsx_has_a_journal_sheet_an_accountant_reads_and_the_reconciliation_sheet(gl_map, account):
    book = openpyxl.load_workbook(io.BytesIO(export_journal(split_settlement(account), "xlsx")))
    assert book.sheetnames == ["Journal", "Reconciliation"]
    journal = list(book["Journal"].iter_rows(values_only=True))
    assert journal[0][:6] == ("Date", "Account", "Description", "Debit", "Credit", "Reference")
    rows = journal[1:]
    assert {(row[0].date() if isinstance(row[0], dt.datetime) else row[0]) for row in rows} == {
        dt.date(2026, 10, 31), dt.date(2026, 11, 14)}
    assert {row[5] for row in rows} == {"12345678901"}
    assert sum(Decimal(str(row[3] or 0)) for row in rows) == sum(Decimal(str(row[4] or 0)) for row in rows)
    october_clearing = [row for row in rows if row[1] == "1210" and row[8] == "2026-10"]
    assert [(row[3], row[4]) for row in october_clearing] == [(8.5, None)]
    recon = list(book["Reconciliation"].iter_rows(values_only=True))
    assert recon[0][:3] == ("Category", "Order id", "SKU")
    assert {(row[0], row[1]) for row in recon[1:]} == {
        ("Matched", "202-0000001-0000001"), ("Settled, never dispatched by the warehouse", "202-0000002-0000002")}


def test_csv_journal_lines_balance_to_the_penny(gl_map, account):
    text = export_journal(split_settlement(account), "csv").decode()
    rows = [row.split(",") for row in text.splitlines()[1:]]
    debits, credits = (sum(Decimal(row[column] or "0") for row in rows) for column in (3, 4))
    assert debits == credits == Decimal("48.50")


def test_held_journal_cannot_be_exported(gl_map, account):
    rows = [line("Liquidations", "", "", "3.00")]
    settlement = import_settlement(account, as_stream(settlement_text(rows))).settlement
    with pytest.raises(JournalNotReady, match="needs GL mapping for Liquidations//"):
        export_journal(settlement, "csv")


def test_import_settlement_command_with_and_without_account(gl_map, account, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(settlement_text(order_lines("202-1-1", "MUG", "10.00")), encoding="latin-1")
    out = io.StringIO()
    call_command("import_settlement", str(path), stdout=out)
    assert out.getvalue().startswith("Imported settlement 12345678901 (2 lines, 8.50 GBP)")
    out = io.StringIO()
    call_command("import_settlement", str(path), "--account", account.name, stdout=out)
    assert "already imported" in out.getvalue()
    assert Settlement.objects.get().source_name == "report.txt"


def test_import_settlement_command_needs_the_account_when_there_are_several(gl_map, account, tmp_path):
    SellerAccountFactory(name="Other seller")
    path = tmp_path / "report.txt"
    path.write_text(settlement_text(order_lines("202-1-1", "MUG", "10.00")))
    with pytest.raises(CommandError, match="Give --account"):
        call_command("import_settlement", str(path))
    with pytest.raises(CommandError, match="No seller account 'Nobody'"):
        call_command("import_settlement", str(path), "--account", "Nobody")


def test_import_settlement_command_reports_a_bad_file_and_imports_nothing(gl_map, account, tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(settlement_text(order_lines("202-1-1", "MUG", "10.00"), total="8.49"))
    with pytest.raises(CommandError, match="report.txt was not imported: the 2 detail lines add up to 8.50 GBP"):
        call_command("import_settlement", str(path))
    assert not Settlement.objects.exists()


def test_export_journal_command_writes_csv_and_xlsx(gl_map, account, tmp_path, monkeypatch):
    split_settlement(account)
    target = tmp_path / "out.xlsx"
    call_command("export_journal", "12345678901", "--format", "xlsx", "--output", str(target), stdout=io.StringIO())
    assert openpyxl.load_workbook(target).sheetnames == ["Journal", "Reconciliation"]
    monkeypatch.chdir(tmp_path)
    call_command("export_journal", "12345678901", stdout=io.StringIO())
    assert (tmp_path / "journal-12345678901.csv").read_text().startswith("Date,Account,Description,Debit,Credit")
    with pytest.raises(CommandError, match="No settlement 999 has been imported"):
        call_command("export_journal", "999")


def test_text_that_would_run_as_a_formula_is_quoted_and_numbers_stay_numbers(gl_map, account):
    rows = order_lines("202-0000003-0000003", "=cmd|'/c calc'!A1", "10.00") + order_lines(
        "202-0000004-0000004", "@SUM(A1:A9)", "5.00")
    settlement = import_settlement(account, as_stream(settlement_text(rows))).settlement
    book = openpyxl.load_workbook(io.BytesIO(export_journal(settlement, "xlsx")))
    recon = list(book["Reconciliation"].iter_rows(values_only=True))[1:]
    assert {row[2] for row in recon} == {"'=cmd|'/c calc'!A1", "'@SUM(A1:A9)"}
    journal = list(book["Journal"].iter_rows(values_only=True))[1:]
    assert all(isinstance(row[3] or row[4], (int, float)) for row in journal)  # debits and credits are numbers
    assert not any(isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")) for row in journal + recon
                   for cell in row)
    text = export_journal(settlement, "csv").decode()
    assert "\n=" not in text and ",=" not in text and ",@" not in text
