"""Finance background work: fetch settlement reports from Amazon, import them, post journals to the GL."""

import io
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from connectors.base import ConnectorError, JournalPost, JournalPostLine
from connectors.models import SellerAccount
from integration_hub.finance.choices import JournalState
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.journal import release_held_journals
from integration_hub.finance.models import Journal
from integration_hub.finance.parser import SettlementFileError
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import DEAD_LETTER_HOOKS, handler, submit
from integration_hub.sync.scheduler import repeating

logger = logging.getLogger(__name__)

# Amazon keeps reports 90 days; asking for a day less avoids an edge the API refuses.
LOOKBACK_DAYS = 89


def _amazon(account):
    from connectors.amazon.client import AmazonConnector

    return AmazonConnector(account)


@repeating("finance.fetch_settlements", every=6 * 3600, queue="finance")
def fetch_settlement_reports():
    """List each active account's settlement reports and queue an import for each (known ones are no-ops)."""
    queued = 0
    since = timezone.now() - timedelta(days=LOOKBACK_DAYS)
    for account in SellerAccount.objects.filter(active=True):
        amazon = _amazon(account)
        try:
            reports = amazon.list_settlement_reports(since)
        finally:
            amazon.close()
        for report in reports:
            submit(WorkKind.IMPORT_SETTLEMENT, key=f"{account.pk}:{report.report_id}", account=account,
                   payload={"report_id": report.report_id, "document_id": report.document_id})
            queued += 1
    return queued


@repeating("finance.release_held", every=900, queue="finance")
def release_held():
    """Release journals held for mapping whose rules arrived without a save signal (bulk imports of the map)."""
    return len(release_held_journals())


@handler(WorkKind.IMPORT_SETTLEMENT)
def import_settlement_report(item):
    """Download one settlement report and import it (or import a file finance uploaded); a file the hub
    cannot read is a permanent failure."""
    if "upload_id" in item.payload:
        from integration_hub.finance import uploads

        return uploads.run(item.payload["upload_id"])
    amazon = _amazon(item.account)
    try:
        data = amazon.download_report(item.payload["document_id"])
    finally:
        amazon.close()
    try:
        result = import_settlement(item.account, io.BytesIO(data),
                                   source_name=f"Amazon report {item.payload['report_id']}")
    except SettlementFileError as exc:
        raise ConnectorError(f"settlement report {item.payload['report_id']} rejected: {exc}", permanent=True) from None
    logger.info("%s", result.message)


def _upload_gave_up(item, error):
    from integration_hub.finance import uploads

    uploads.give_up(item, error)


DEAD_LETTER_HOOKS[WorkKind.IMPORT_SETTLEMENT] = _upload_gave_up


def journal_post(journal):
    """The GL batch for a journal, in the connector's terms."""
    lines = [
        JournalPostLine(account=line.gl_account, description=line.full_description, debit=line.debit,
                        credit=line.credit)
        for line in journal.lines.all()
    ]
    settlement = journal.settlement
    return JournalPost(reference=journal.reference, date=journal.date, currency=settlement.currency, lines=lines,
                       description=f"Amazon settlement {settlement.settlement_id} {journal.period:%b %Y}")


def queue_posting(settlement):
    """Queue a posting for each of the settlement's ready journals; returns the work items."""
    return [submit(WorkKind.POST_JOURNAL, key=journal.pk, account=settlement.account, reset=True)
            for journal in settlement.journals.filter(state=JournalState.READY)]


@handler(WorkKind.POST_JOURNAL)
def post_journal(item):
    """Post one journal to the back office's GL once, keep its batch reference, and freeze the journal."""
    from connectors.registry import back_office_for

    journal = Journal.objects.select_related("settlement__account__back_office").get(pk=item.key)
    if journal.state == JournalState.POSTED:
        return
    try:
        journal.ensure_postable()
    except ValidationError as exc:
        raise ConnectorError(exc.messages[0], permanent=True) from None
    connection = journal.settlement.account.back_office
    if connection is None:
        raise ConnectorError(f"{journal.settlement.account} has no back office to post to", permanent=True)
    # The connector is idempotent on the reference, so a retry after a lost reply cannot post twice.
    reference = back_office_for(connection).post_journal(journal_post(journal))
    journal.mark_posted(reference)
    logger.info("posted %s to %s as %s", journal, connection, reference)
