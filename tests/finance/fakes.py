"""A tiny in-memory back office for the finance tests (the real connectors have their own contract tests)."""

from connectors.base import BackOffice, ConnectorError, SalesOrderStatus


class FakeBackOffice(BackOffice):
    """Knows a few sales orders and keeps posted GL batches by reference, like a real GL would."""

    def __init__(self, connection=None, orders=None, fail_with=None):
        super().__init__(connection)
        self.orders = orders or {}
        self.fail_with = fail_with
        self.batches = {}
        self.status_calls = []

    def _maybe_fail(self):
        if self.fail_with:
            raise self.fail_with

    def get_sales_order_status(self, amazon_order_id):
        self.status_calls.append(amazon_order_id)
        self._maybe_fail()
        ref = self.orders.get(amazon_order_id)
        return SalesOrderStatus(amazon_order_id, ref, "Invoiced", dispatched=True) if ref else None

    def post_journal(self, journal):
        self._maybe_fail()
        if journal.reference not in self.batches:
            self.batches[journal.reference] = (f"GL{len(self.batches) + 1:05d}", journal)
        return self.batches[journal.reference][0]

    def test_connection(self):
        return "fake"

    def create_sales_order(self, order):
        raise NotImplementedError

    def cancel_sales_order(self, amazon_order_id):
        raise NotImplementedError

    def list_dispatches(self, cursor=""):
        raise NotImplementedError

    def dispatches_for_order(self, amazon_order_id):
        raise NotImplementedError

    def get_stock(self, item_codes=None):
        raise NotImplementedError

    def list_items(self):
        raise NotImplementedError

    def list_ship_methods(self):
        raise NotImplementedError


def no_gl():
    """What Clarus does: it has no general ledger."""
    return ConnectorError("Clarus WMS has no general ledger: download the journal instead", permanent=True)
