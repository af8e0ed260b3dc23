from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from integration_hub.finance.choices import JournalState
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.journal import rebuild_journals
from integration_hub.finance.models import Journal, JournalLine, Settlement, SettlementLine
from integration_hub.finance.parser import SettlementFileError
from mappings.models import GlAccountMap
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream, simple_settlement

pytestmark = pytest.mark.django_db


def journal_rows(settlement):
    return sorted((j.period, line.gl_account, line.marketplace, line.debit, line.credit)
                  for j in settlement.journals.all() for line in j.lines.all())


def test_import_stores_every_line_as_reported_and_a_ready_journal(gl_map, account):
    rows = order_lines("202-1-1", "MUG", "10.00", quantity=2) + [
        line("other-transaction", "other-transaction", "Current Reserve Amount", "-3.00", promotion_id="")]
    result = import_settlement(account, as_stream(settlement_text(rows)), source_name="upload.txt")
    settlement = result.settlement
    assert result.created
    assert (settlement.line_count, settlement.total_amount, settlement.source_name) == (
        3, Decimal("5.50"), "upload.txt")
    stored = list(settlement.lines.values_list("line_number", "amount_description", "amount", "quantity_purchased"))
    assert stored == [(3, "Principal", Decimal("10.00"), 2), (4, "Commission", Decimal("-1.50"), None),
                      (5, "Current Reserve Amount", Decimal("-3.00"), None)]
    (journal,) = settlement.journals.all()
    assert journal.state == JournalState.READY
    assert journal.totals() == {"debit": Decimal("10.00"), "credit": Decimal("10.00")}
    assert "journal ready" in result.message


def test_importing_the_same_settlement_twice_is_a_no_op_that_says_so(gl_map, account):
    text = settlement_text(order_lines("202-1-1", "MUG", "10.00"))
    import_settlement(account, as_stream(text))
    again = import_settlement(account, as_stream(text))
    assert not again.created
    assert "was already imported" in again.message and "nothing changed" in again.message
    assert Settlement.objects.count() == 1
    assert SettlementLine.objects.count() == 2


def test_wrong_total_rejects_the_import_and_stores_nothing(gl_map, account):
    text = settlement_text(order_lines("202-1-1", "MUG", "10.00"), total="9.99")
    with pytest.raises(SettlementFileError, match="difference of -1.49"):
        import_settlement(account, as_stream(text))
    assert not Settlement.objects.exists()
    assert not SettlementLine.objects.exists()
    assert not Journal.objects.exists()


def test_bad_line_late_in_the_file_rejects_it_whole(gl_map, account):
    rows = order_lines("202-1-1", "MUG", "10.00") * 50 + [line("Order", "ItemPrice", "Principal", "ten")]
    with pytest.raises(SettlementFileError, match="line 103: amount"):
        import_settlement(account, as_stream(settlement_text(rows, total="425.00")))
    assert not SettlementLine.objects.exists()
    assert not Settlement.objects.exists()


def test_unknown_fee_holds_the_journal_until_a_rule_is_added(gl_map, account, django_capture_on_commit_callbacks):
    rows = order_lines("202-1-1", "MUG", "10.00") + [
        line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-150.00")]
    result = import_settlement(account, as_stream(settlement_text(rows)))
    settlement = result.settlement
    assert "needs mapping for: other-transaction/other-transaction/Vine Enrollment Fee" in result.message
    assert settlement.journals.get().state == JournalState.NEEDS_MAPPING
    (combo,) = settlement.unmapped.all()
    assert (combo.line_count, combo.total) == (1, Decimal("-150.00"))
    assert not JournalLine.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        GlAccountMap.objects.create(transaction_type="other-transaction", amount_type="*",
                                    amount_description="Vine*", gl_account="6300", description="Amazon Vine")
    journal = settlement.journals.get()
    assert journal.state == JournalState.READY
    assert not settlement.unmapped.exists()
    assert journal.lines.get(gl_account="6300").debit == Decimal("150.00")
    assert journal.lines.get(gl_account="1200").credit == Decimal("141.50")


def test_rule_for_something_else_leaves_the_journal_held(gl_map, account, django_capture_on_commit_callbacks):
    rows = [line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-150.00")]
    settlement = import_settlement(account, as_stream(settlement_text(rows))).settlement
    with django_capture_on_commit_callbacks(execute=True):
        GlAccountMap.objects.create(transaction_type="Liquidations", gl_account="4700", description="Liquidations")
    assert settlement.journals.get().state == JournalState.NEEDS_MAPPING


def test_rebuilding_from_stored_lines_gives_the_same_split_journals(gl_map, account):
    rows = (order_lines("202-1-1", "MUG", "10.00", posted="2026-10-31")
            + order_lines("202-1-2", "MUG", "30.00", posted="2026-11-01")
            + [line("other-transaction", "other-transaction", "Current Reserve Amount", "-5.00", posted="")])
    settlement = import_settlement(account, as_stream(
        settlement_text(rows, start="2026-10-25 00:00:00 UTC"))).settlement
    imported = journal_rows(settlement)
    assert settlement.journals.count() == 2
    rebuild_journals(settlement)
    assert journal_rows(settlement) == imported


def test_posted_journal_cannot_be_changed_rebuilt_or_posted_again(gl_map, account):
    settlement = simple_settlement(account)
    journal = settlement.journals.get()
    journal.mark_posted("GL-0001")
    journal.refresh_from_db()
    assert (journal.state, journal.posted_ref) == (JournalState.POSTED, "GL-0001")
    with pytest.raises(ValidationError, match="cannot be changed"):
        journal.mark_posted("GL-0002")
    with pytest.raises(ValidationError, match="cannot be changed"):
        rebuild_journals(settlement)
    line_ = journal.lines.first()
    line_.debit = Decimal("1.00")
    with pytest.raises(ValidationError):
        line_.save()
    journal.date = journal.date.replace(day=1)
    with pytest.raises(ValidationError):
        journal.save()
    assert Journal.objects.get(pk=journal.pk).posted_ref == "GL-0001"


def test_journal_held_for_mapping_cannot_be_posted(gl_map, account):
    rows = [line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-1.00")]
    journal = import_settlement(account, as_stream(settlement_text(rows))).settlement.journals.get()
    with pytest.raises(ValidationError, match="needs GL mapping"):
        journal.mark_posted("GL-1")


def test_repeating_job_releases_journals_whose_rule_was_bulk_imported(gl_map, account):
    from integration_hub.finance.jobs import release_held

    rows = [line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-150.00")]
    settlement = import_settlement(account, as_stream(settlement_text(rows))).settlement
    assert release_held() == 0
    GlAccountMap.objects.bulk_create([GlAccountMap(transaction_type="other-transaction", amount_type="*",
                                                   amount_description="Vine*", gl_account="6300", description="Vine")])
    assert settlement.journals.get().state == JournalState.NEEDS_MAPPING  # no signal from bulk_create
    assert release_held() == 1
    assert settlement.journals.get().state == JournalState.READY
