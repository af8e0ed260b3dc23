import io

import pytest

from mappings.models import GlAccountMap
from tests.factories import SellerAccountFactory

# A UK chart of accounts: the core of the defaults the demo seeds (mappings/defaults/gl-accounts.csv),
# kept here so each test states the rules it relies on.
UK_RULES = [
    ("Order", "ItemPrice", "Principal", "4000", "Amazon sales"),
    ("Order", "ItemPrice", "Shipping", "4010", "Amazon shipping income"),
    ("*", "ItemPrice", "Tax", "2200", "VAT on Amazon sales"),
    ("*", "ItemPrice", "ShippingTax", "2200", "VAT on Amazon sales"),
    ("*", "ItemFees", "*", "6100", "Amazon fees"),
    ("*", "Promotion", "*", "4900", "Amazon promotions"),
    ("Refund", "ItemPrice", "*", "4050", "Amazon refunds"),
    ("ServiceFee", "Cost of Advertising", "*", "6200", "Amazon advertising"),
    ("other-transaction", "other-transaction", "*Reserve*", "1250", "Amazon reserve"),
    ("other-transaction", "other-transaction", "Unavailable balance", "1250", "Amazon reserve"),
    ("other-transaction", "FBA Inventory Reimbursement", "*", "4800", "FBA reimbursements"),
    ("Hub", "Deposit", "*", "1200", "Amazon deposit"),
    ("Hub", "Clearing", "*", "1210", "Amazon settlement clearing"),
]


@pytest.fixture
def gl_map(db):
    return [GlAccountMap.objects.create(transaction_type=tt, amount_type=at, amount_description=ad,
                                        gl_account=gl, description=text) for tt, at, ad, gl, text in UK_RULES]


@pytest.fixture
def account(db):
    return SellerAccountFactory(back_office=None)


def as_stream(text, encoding="utf-8"):
    return io.BytesIO(text.encode(encoding))


def simple_settlement(account):
    """One order item sold for 10.00 less 1.50 commission: 8.50 deposited."""
    from integration_hub.finance.importer import import_settlement
    from tests.finance.builders import order_lines, settlement_text

    return import_settlement(account, as_stream(settlement_text(order_lines("202-1-1", "MUG", "10.00")))).settlement
