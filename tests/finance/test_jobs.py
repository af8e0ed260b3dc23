import datetime as dt
from decimal import Decimal

import pytest

from integration_hub.finance import jobs
from integration_hub.finance.choices import JournalState
from integration_hub.finance.exports import export_journal
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.models import Settlement
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import run_work_item
from integration_hub.sync.models import WorkItem
from tests.factories import SellerAccountFactory
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream
from tests.finance.fakes import FakeBackOffice, no_gl

pytestmark = pytest.mark.django_db


@pytest.fixture
def gl(monkeypatch):
    fake = FakeBackOffice()
    monkeypatch.setattr("connectors.registry.back_office_for", lambda connection: fake)
    return fake


def imported(account, rows, **kwargs):
    return import_settlement(account, as_stream(settlement_text(rows, **kwargs)), check_back_office=False).settlement


def post_all(settlement):
    items = jobs.queue_posting(settlement)
    for item in items:
        run_work_item(item.pk)
    return [WorkItem.objects.get(pk=item.pk) for item in items]


def test_journal_is_posted_once_as_a_balanced_gl_batch_and_frozen(gl_map, gl):
    settlement = imported(SellerAccountFactory(), order_lines("202-1-1", "MUG", "10.00"))
    (item,) = post_all(settlement)
    assert item.state == WorkState.DONE
    journal = settlement.journals.get()
    assert (journal.state, journal.posted_ref) == (JournalState.POSTED, "GL00001")
    ref, batch = gl.batches["12345678901"]
    assert batch.currency == "GBP" and batch.date == dt.date(2026, 11, 14)
    assert sum(line.debit for line in batch.lines) == sum(line.credit for line in batch.lines) == Decimal("10.00")
    assert {(line.account, line.description) for line in batch.lines} >= {("4000", "Amazon sales (Amazon.co.uk)"),
                                                                 ("1200", "Amazon deposit")}
    assert jobs.queue_posting(settlement) == []  # nothing left to post


def test_posting_handler_run_twice_posts_once(gl_map, gl):
    settlement = imported(SellerAccountFactory(), order_lines("202-1-1", "MUG", "10.00"))
    (item,) = post_all(settlement)
    WorkItem.objects.filter(pk=item.pk).update(state=WorkState.PENDING)  # as if RQ delivered it again
    run_work_item(item.pk)
    assert len(gl.batches) == 1
    assert settlement.journals.get().posted_ref == "GL00001"


def test_split_settlement_posts_one_batch_per_month(gl_map, gl):
    rows = (order_lines("202-1-1", "MUG", "10.00", posted="2026-10-30")
            + order_lines("202-1-2", "MUG", "30.00", posted="2026-11-02"))
    settlement = imported(SellerAccountFactory(), rows, start="2026-10-25 00:00:00 UTC")
    post_all(settlement)
    assert sorted(gl.batches) == ["12345678901-202610", "12345678901-202611"]
    assert set(settlement.journals.values_list("state", flat=True)) == {JournalState.POSTED}


def test_back_office_without_a_gl_leaves_the_journal_ready_and_shows_why(gl_map, gl):
    gl.fail_with = no_gl()
    settlement = imported(SellerAccountFactory(), order_lines("202-1-1", "MUG", "10.00"))
    (item,) = post_all(settlement)
    assert item.state == WorkState.DEAD
    assert "has no general ledger" in item.last_error
    assert settlement.journals.get().state == JournalState.READY
    assert export_journal(settlement, "csv").startswith(b"Date,Account")


def test_journal_needing_mapping_is_never_queued_and_a_stray_item_dies_with_the_reason(gl_map, gl):
    rows = [line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-1.00")]
    settlement = imported(SellerAccountFactory(), rows)
    assert jobs.queue_posting(settlement) == []
    item = WorkItem.objects.create(kind=WorkKind.POST_JOURNAL, key=str(settlement.journals.get().pk))
    run_work_item(item.pk)
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and "needs GL mapping" in item.last_error
    assert gl.batches == {}


def test_account_without_back_office_cannot_post(gl_map, account):
    settlement = imported(account, order_lines("202-1-1", "MUG", "10.00"))
    (item,) = post_all(settlement)
    assert item.state == WorkState.DEAD and "has no back office" in item.last_error


class FakeAmazon:
    """Stands in for connectors.amazon.client.AmazonConnector: two reports, served as bytes."""

    def __init__(self, documents):
        self.documents = documents
        self.closed = 0

    def list_settlement_reports(self, created_since):
        from connectors.amazon.records import SettlementReportInfo

        return [SettlementReportInfo(report_id=f"R{doc}", document_id=doc, created=created_since, data_start=None,
                                     data_end=None) for doc in self.documents]

    def download_report(self, document_id):
        return self.documents[document_id]

    def close(self):
        self.closed += 1


def test_settlement_reports_are_listed_queued_once_and_imported(gl_map, account, monkeypatch):
    good = settlement_text(order_lines("202-1-1", "MUG", "10.00")).encode("cp1252")
    bad = settlement_text(order_lines("202-1-1", "MUG", "10.00"), settlement_id="999", total="1.00").encode()
    amazon = FakeAmazon({"DOC-1": good, "DOC-2": bad})
    monkeypatch.setattr(jobs, "_amazon", lambda acct: amazon)
    assert jobs.fetch_settlement_reports() == 2
    assert jobs.fetch_settlement_reports() == 2  # listed again: the same two work items
    items = {item.payload["document_id"]: item for item in WorkItem.objects.filter(kind=WorkKind.IMPORT_SETTLEMENT)}
    assert sorted(items) == ["DOC-1", "DOC-2"]
    for item in items.values():
        run_work_item(item.pk)
    settlement = Settlement.objects.get()
    assert (settlement.settlement_id, settlement.source_name) == ("12345678901", "Amazon report RDOC-1")
    dead = WorkItem.objects.get(pk=items["DOC-2"].pk)
    assert dead.state == WorkState.DEAD
    assert "rejected: the 2 detail lines add up to 8.50 GBP" in dead.last_error
    assert amazon.closed == 4


def test_journal_posts_to_dynamics_sl_as_one_gl_batch(gl_map, backoffice, warehouse):
    """Against the Dynamics SL emulator: its chart has 1200, 4000 and 6100, the accounts this journal uses."""
    account = SellerAccountFactory(back_office=backoffice.connection)
    settlement = imported(account, order_lines("202-1-1", "MUG", "10.00"))
    (item,) = post_all(settlement)
    assert item.state == WorkState.DONE, item.last_error
    journal = settlement.journals.get()
    assert journal.state == JournalState.POSTED and journal.posted_ref
    assert len(warehouse.gl_batches("12345678901")) == 1
    assert jobs.queue_posting(settlement) == []


def test_settlement_report_is_fetched_from_the_amazon_emulator_and_imported(gl_map, amazon_emulator):
    """Over loopback HTTP with the real connector: getReports, getReportDocument, then the import."""
    account = SellerAccountFactory(
        back_office=None, seller_id=amazon_emulator.seller_id, marketplace_ids=[amazon_emulator.marketplace_id],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, endpoint=amazon_emulator.url,
        token_url=f"{amazon_emulator.url}/auth/o2/token")
    amazon_emulator.set_faults(quota_multiplier=50)
    text = settlement_text(order_lines("202-1-1", "MUG", "10,00"), currency="EUR", decimal_comma=True,
                           total="8.50")
    report_id = amazon_emulator.add_settlement_report(text)
    assert jobs.fetch_settlement_reports() == 1
    item = WorkItem.objects.get(kind=WorkKind.IMPORT_SETTLEMENT)
    assert item.key == f"{account.pk}:{report_id}"
    run_work_item(item.pk)
    item.refresh_from_db()
    assert item.state == WorkState.DONE, item.last_error
    settlement = Settlement.objects.get(account=account)
    assert (settlement.currency, settlement.total_amount, settlement.line_count) == ("EUR", Decimal("8.50"), 2)
    assert settlement.journals.get().state == JournalState.READY
