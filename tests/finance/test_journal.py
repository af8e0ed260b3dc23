import datetime as dt
from decimal import Decimal

import pytest

from integration_hub.finance.journal import Categoriser, JournalBuilder
from integration_hub.finance.parser import SettlementReader
from mappings.models import GlAccountMap
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream

pytestmark = pytest.mark.django_db


def draft_for(text):
    reader = SettlementReader(as_stream(text))
    builder = JournalBuilder(reader.summary, Categoriser())
    for row in reader.rows():
        builder.add(row)
    reader.check_total()
    return builder.build()


def by_account(journal):
    """gl account -> net (credit positive), summed over marketplaces."""
    out = {}
    for entry in journal.lines:
        out[entry.gl_account] = out.get(entry.gl_account, Decimal("0")) + entry.credit - entry.debit
    return out


def assert_balanced(draft):
    for journal in draft.journals:
        debit, credit = journal.totals()
        assert debit == credit and debit > 0


MIXED = (
    order_lines("202-0000001-0000001", "MUG", "20.00", tax="4.00", commission="-3.00")
    + [line("Order", "Promotion", "Principal", "-2.00", order_id="202-0000001-0000001", sku="MUG"),
       line("Refund", "ItemPrice", "Principal", "-8.00", order_id="202-0000002-0000002", sku="CUP"),
       line("Refund", "ItemPrice", "Tax", "-1.60", order_id="202-0000002-0000002", sku="CUP"),
       line("Refund", "ItemFees", "Commission", "1.20", order_id="202-0000002-0000002", sku="CUP"),
       line("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", "-5.55", marketplace=""),
       line("other-transaction", "other-transaction", "Previous Reserve Amount Balance", "30.00", marketplace=""),
       line("other-transaction", "other-transaction", "Current Reserve Amount", "-25.00", marketplace=""),
       line("other-transaction", "other-transaction", "Unavailable balance", "-2.00", marketplace=""),
       line("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE", "6.10")]
)


def test_every_kind_of_line_lands_on_its_gl_account_and_the_deposit_balances(gl_map):
    draft = draft_for(settlement_text(MIXED))
    assert not draft.needs_mapping
    (journal,) = draft.journals
    assert by_account(journal) == {
        "4000": Decimal("20.00"),    # sales
        "2200": Decimal("2.40"),     # VAT: 4.00 on the sale, -1.60 refunded
        "6100": Decimal("-1.80"),    # fees: -3.00 commission, +1.20 refunded commission
        "4900": Decimal("-2.00"),    # promotions
        "4050": Decimal("-8.00"),    # refunds
        "6200": Decimal("-5.55"),    # advertising deducted from the payout
        "1250": Decimal("3.00"),     # reserve: 30.00 released, 25.00 held again, 2.00 unavailable
        "4800": Decimal("6.10"),     # FBA reimbursement
        "1200": Decimal("-14.15"),   # the deposit: a debit to the bank
    }
    assert_balanced(draft)
    deposit = [entry for entry in journal.lines if entry.gl_account == "1200"][0]
    assert (deposit.debit, deposit.credit, deposit.description) == (Decimal("14.15"), 0, "Amazon deposit")


def test_more_specific_rule_wins_over_a_wildcard(gl_map):
    GlAccountMap.objects.create(transaction_type="Order", amount_type="ItemFees", amount_description="Commission",
                                gl_account="6110", description="Amazon referral fees")
    draft = draft_for(settlement_text(order_lines("202-1-1", "MUG", "20.00") + [
        line("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-2.50", order_id="202-1-1", sku="MUG")]))
    assert by_account(draft.journals[0]) == {"4000": Decimal("20.00"), "6110": Decimal("-1.50"),
                                             "6100": Decimal("-2.50"), "1200": Decimal("-16.00")}


def test_journal_is_summarised_per_account_and_marketplace(gl_map):
    rows = (order_lines("202-1-1", "MUG", "10.00") + order_lines("202-1-2", "MUG", "12.00")
            + [line("Order", "ItemPrice", "Principal", "7.00", order_id="305-1-1", sku="MUG", marketplace="Amazon.de")])
    (journal,) = draft_for(settlement_text(rows)).journals
    sales = {(entry.marketplace, entry.credit) for entry in journal.lines if entry.gl_account == "4000"}
    assert sales == {("Amazon.co.uk", Decimal("22.00")), ("Amazon.de", Decimal("7.00"))}
    assert len([entry for entry in journal.lines if entry.gl_account == "6100"]) == 1


def test_amounts_are_summed_exactly_as_reported_never_recomputed(gl_map):
    taxes = [line("Order", "ItemPrice", "Tax", amount) for amount in ("3.33", "3.33", "3.34", "0.01")]
    (journal,) = draft_for(settlement_text(taxes)).journals
    assert by_account(journal)["2200"] == Decimal("10.01")


def test_unknown_fee_holds_the_journal_and_lists_the_combination_with_its_total(gl_map):
    rows = order_lines("202-1-1", "MUG", "10.00") + [
        line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-150.00"),
        line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-50.00")]
    draft = draft_for(settlement_text(rows))
    assert draft.needs_mapping
    assert draft.unmapped == [("other-transaction", "other-transaction", "Vine Enrollment Fee", 2, Decimal("-200.00"))]
    assert all(not journal.lines for journal in draft.journals)


def test_without_a_deposit_rule_the_journal_needs_mapping_for_it(gl_map):
    GlAccountMap.objects.filter(transaction_type="Hub", amount_type="Deposit").delete()
    draft = draft_for(settlement_text(order_lines("202-1-1", "MUG", "10.00")))
    assert draft.unmapped == [("Hub", "Deposit", "GBP", 1, Decimal("8.50"))]


def test_catch_all_rule_never_stands_in_for_the_bank_account(gl_map):
    GlAccountMap.objects.filter(transaction_type="Hub").delete()
    GlAccountMap.objects.create(gl_account="9999", description="Suspense")  # */*/*
    draft = draft_for(settlement_text(order_lines("202-1-1", "MUG", "10.00")))
    assert [combo[:3] for combo in draft.unmapped] == [("Hub", "Deposit", "GBP")]


def test_negative_settlement_credits_the_bank(gl_map):
    rows = order_lines("202-1-1", "MUG", "10.00") + [
        line("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", "-60.00", marketplace="")]
    draft = draft_for(settlement_text(rows))
    assert draft.journals[0].lines[-1].gl_account == "1200"
    deposit = draft.journals[0].lines[-1]
    assert (deposit.debit, deposit.credit) == (0, Decimal("51.50"))
    assert deposit.description == "Amazon deposit (Amazon debit)"
    assert_balanced(draft)


def test_settlement_spanning_two_months_is_split_through_the_clearing_account(gl_map):
    rows = (order_lines("202-1-1", "MUG", "10.00", posted="2026-10-30")
            + order_lines("202-1-2", "MUG", "30.00", commission="-4.50", posted="2026-11-02"))
    draft = draft_for(settlement_text(rows, start="2026-10-25 00:00:00 UTC", end="2026-11-08 23:00:00 UTC"))
    october, november = draft.journals
    assert (october.period, october.date) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert (november.period, november.date) == (dt.date(2026, 11, 1), dt.date(2026, 11, 8))
    assert by_account(october) == {"4000": Decimal("10.00"), "6100": Decimal("-1.50"), "1210": Decimal("-8.50")}
    assert by_account(november) == {"4000": Decimal("30.00"), "6100": Decimal("-4.50"), "1210": Decimal("8.50"),
                                    "1200": Decimal("-34.00")}
    assert_balanced(draft)


def test_split_settlement_without_a_clearing_rule_needs_mapping(gl_map):
    GlAccountMap.objects.filter(transaction_type="Hub", amount_type="Clearing").delete()
    rows = (order_lines("202-1-1", "MUG", "10.00", posted="2026-10-30")
            + order_lines("202-1-2", "MUG", "30.00", posted="2026-11-02"))
    draft = draft_for(settlement_text(rows, start="2026-10-25 00:00:00 UTC"))
    assert [combo[:3] for combo in draft.unmapped] == [("Hub", "Clearing", "GBP")]


def test_currency_specific_bank_rule_wins_for_a_euro_settlement(gl_map):
    GlAccountMap.objects.create(transaction_type="Hub", amount_type="Deposit", amount_description="EUR",
                                gl_account="1201", description="Amazon deposit EUR")
    euro = draft_for(settlement_text(order_lines("305-1-1", "MUG", "10.00"), currency="EUR"))
    pound = draft_for(settlement_text(order_lines("202-1-1", "MUG", "10.00"), currency="GBP"))
    assert (euro.currency, euro.journals[0].lines[-1].gl_account) == ("EUR", "1201")
    assert (pound.currency, pound.journals[0].lines[-1].gl_account) == ("GBP", "1200")


def test_month_end_is_taken_in_the_hubs_time_zone(gl_map, settings):
    """23:30 UTC on 30 September is 00:30 on 1 October in London: it belongs to October's books."""
    rows = [line("Order", "ItemPrice", "Principal", "10.00", posted="", posted_date_time="2026-09-30 23:30:00 UTC"),
            line("Order", "ItemPrice", "Principal", "5.00", posted="", posted_date_time="2026-09-30 22:30:00 UTC")]
    draft = draft_for(settlement_text(rows, start="2026-09-20 00:00:00 UTC", end="2026-10-04 00:00:00 UTC"))
    september, october = draft.journals
    assert by_account(september)["4000"] == Decimal("5.00")
    assert by_account(october)["4000"] == Decimal("10.00")
    assert (september.date, october.date) == (dt.date(2026, 9, 30), dt.date(2026, 10, 4))
