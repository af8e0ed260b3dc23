"""The shared back-office contract, run against the Sage 500 emulator."""

import pytest

from connectors.sql import engine_for
from tests.connectors.backoffice_contract import BackOfficeContract
from tests.fixtures_sage500 import SHIP_METHOD


class ContractWarehouse:
    """The contract's `warehouse` handle, in terms of the Sage 500 emulator."""

    ship_method = SHIP_METHOD

    def __init__(self, sage, backoffice):
        self.sage = sage
        self.backoffice = backoffice

    def add_item(self, item_code, on_hand):
        self.sage.add_item(item_code, on_hand=on_hand)

    def dispatch(self, amazon_order_id, packages, ship_method):
        self.sage.ship(amazon_order_id, packages, ship_method=ship_method)

    def drop_next_create_response(self):
        self.sage.lose_reply_after_next_import(engine_for(self.backoffice.connection),
                                               self.backoffice.options.order_procedure)

    def order_count(self, amazon_order_id):
        return self.sage.order_count(amazon_order_id)

    def gl_batches(self, reference):
        return self.sage.gl_batches(reference)


@pytest.fixture
def backoffice(sage500_backoffice):
    return sage500_backoffice


@pytest.fixture
def warehouse(sage500, backoffice):
    return ContractWarehouse(sage500, backoffice)


class TestSage500Contract(BackOfficeContract):
    """All contract cases against the emulator."""
