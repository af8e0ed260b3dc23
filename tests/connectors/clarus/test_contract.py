"""The shared back-office contract, run against the Clarus emulator."""

import datetime as dt
from decimal import Decimal

import pytest

from connectors.base import ConnectorError, JournalPost, JournalPostLine
from connectors.clarus.client import NO_LEDGER
from integration_hub.exchanges.models import Exchange
from tests.connectors.backoffice_contract import BackOfficeContract


class TestClarusContract(BackOfficeContract):
    @pytest.fixture
    def backoffice(self, clarus_backoffice):
        return clarus_backoffice

    @pytest.fixture
    def warehouse(self, clarus_tenant):
        return clarus_tenant

    def test_gl_journal_is_posted_once(self, backoffice, warehouse):
        """Overridden: Clarus is a warehouse system with no general ledger, so posting a journal is a
        permanent error telling finance to download the journal; nothing is sent to Clarus."""
        journal = JournalPost(reference="STL1", date=dt.date(2026, 11, 20), description="Amazon settlement",
                              currency="GBP", lines=[JournalPostLine("4000", "Amazon sales", Decimal("0"),
                                                                     Decimal("1"))])
        with pytest.raises(ConnectorError) as caught:
            backoffice.post_journal(journal)
        assert caught.value.permanent
        assert caught.value.message == NO_LEDGER
        assert not Exchange.objects.filter(correlation_id="STL1").exists()
