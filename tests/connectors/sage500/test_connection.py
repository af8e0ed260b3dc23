"""Sage 500 connection handling: options, errors, health, and what reaches the exchange log."""

import datetime as dt
import logging
from decimal import Decimal

import pytest

from connectors.base import ConnectorError, JournalPost, JournalPostLine
from connectors.choices import BackOfficeKind
from connectors.models import BackOfficeConnection
from connectors.registry import back_office_for
from integration_hub.exchanges.choices import Outcome
from integration_hub.exchanges.models import Exchange
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.fixtures_sage500 import SHIP_METHOD

pytestmark = pytest.mark.django_db


def connection(options, endpoint="postgresql+psycopg://127.0.0.1:1/nowhere", secret=""):
    return BackOfficeConnection.objects.create(name="Sage", kind=BackOfficeKind.SAGE500, endpoint=endpoint,
                                               username="hub", secret=secret, options=options)


@pytest.mark.parametrize("options, named", [
    ({"customer_id": "AMAZON", "warehouse_id": "MAIN"}, "'company_id' is required"),
    ({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN", "amazon_id_field": "UserFld1; --"},
     "'amazon_id_field' must be a SQL identifier"),
    ({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN", "cancel_mode": "delete"},
     "'cancel_mode' must be one of api, refuse"),
    ({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN", "page_size": 0},
     "'page_size' must be a positive whole number"),
    ({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN", "companyid": "SOA"},
     "'companyid' is not a Sage 500 option"),
])
def test_bad_options_are_permanent_errors_naming_the_option(options, named):
    with pytest.raises(ConnectorError) as caught:
        back_office_for(connection(options))
    assert caught.value.permanent and named in caught.value.message


def test_unreachable_database_is_transient_retried_and_marks_the_connection(settings):
    conn = connection({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN"}, secret="s3cret-Pw")

    with pytest.raises(ConnectorError) as caught:
        back_office_for(conn).test_connection()

    assert not caught.value.permanent
    assert "s3cret-Pw" not in caught.value.message
    attempts = Exchange.objects.filter(connection=conn, operation="test_connection")
    assert sorted(attempts.values_list("attempt", flat=True)) == [1, 2, 3]
    assert set(attempts.values_list("outcome", flat=True)) == {Outcome.TRANSIENT}
    conn.refresh_from_db()
    assert conn.consecutive_failures == 3 and conn.last_error


@pytest.mark.parametrize("endpoint, named", [
    ("mssql+pyodbc://sage-sql/mas500_app?driver=ODBC+Driver+18+for+SQL+Server", "database driver missing"),
    ("not a database url", "Could not parse SQLAlchemy URL"),
])
def test_an_endpoint_the_hub_cannot_use_is_a_permanent_error(endpoint, named):
    conn = connection({"company_id": "SOA", "customer_id": "AMAZON", "warehouse_id": "MAIN"}, endpoint=endpoint)
    with pytest.raises(ConnectorError) as caught:
        back_office_for(conn).test_connection()
    assert caught.value.permanent and named in caught.value.message
    assert Exchange.objects.filter(connection=conn).count() == 1  # no quick retries of what cannot work


def test_connection_test_names_the_company(sage500_backoffice, sage500_connection):
    assert "Emulated Sage Ltd" in sage500_backoffice.test_connection()
    sage500_connection.refresh_from_db()
    assert sage500_connection.last_success_at is not None


def test_unknown_company_fails_the_connection_test(sage500_connection):
    sage500_connection.options = {**sage500_connection.options, "company_id": "ZZZ"}
    with pytest.raises(ConnectorError) as caught:
        back_office_for(sage500_connection).test_connection()
    assert caught.value.permanent and "ZZZ" in caught.value.message


def test_secret_and_buyer_data_stay_out_of_the_exchange_log_and_logs(sage500, sage500_connection, caplog):
    sage500_connection.secret = "s3cret-Pw"  # trust authentication lets any password in
    sage500_connection.save()
    backoffice = back_office_for(BackOfficeConnection.objects.get(pk=sage500_connection.pk))
    sage500.add_item("PII-1", on_hand=2)
    order_id = amazon_order_id()
    order = sales_order(order_id, SHIP_METHOD, [("1", "PII-1", 1)])
    order.address.line1 = "1 High Street which is far too long for a Sage address line"

    with caplog.at_level(logging.DEBUG):
        backoffice.create_sales_order(order)
        with pytest.raises(ConnectorError):
            backoffice.create_sales_order(sales_order(amazon_order_id(), SHIP_METHOD, [("1", "NOPE", 1)]))

    assert Exchange.objects.filter(correlation_id=order_id).count() >= 4
    logged = " ".join(f"{e.request_summary} {e.response_summary} {e.error}" for e in Exchange.objects.all())
    logged += caplog.text
    for private in ("s3cret-Pw", "Jane Buyer", "High Street", "LS1 4AB", "0113 000000"):
        assert private not in logged
    assert "address line 1 cut to 40 characters" in caplog.text


@pytest.mark.parametrize("reference, lines, reason", [
    ("STL-UNKNOWN", [("4000", "0", "10.00"), ("9999", "10.00", "0")], "Invalid GLAcctNo '9999'"),
    ("STL-UNBALANCED", [("4000", "0", "10.00"), ("1200", "9.99", "0")], "does not balance"),
])
def test_journal_sage_refuses_is_a_permanent_error_with_its_reason(sage500, sage500_backoffice, reference, lines,
                                                                    reason):
    journal = JournalPost(reference=reference, date=dt.date(2026, 11, 20), description="Settlement", currency="GBP",
                          lines=[JournalPostLine(acct, "Line", Decimal(dr), Decimal(cr)) for acct, dr, cr in lines])
    with pytest.raises(ConnectorError) as caught:
        sage500_backoffice.post_journal(journal)
    assert caught.value.permanent and reason in caught.value.message
    assert sage500.gl_batches(reference) == []


def test_journal_lines_land_as_signed_amounts_in_one_batch(sage500, sage500_backoffice):
    from sqlalchemy import text

    journal = JournalPost(reference="STL-SIGNED", date=dt.date(2026, 11, 20), description="Settlement",
                          currency="GBP", lines=[JournalPostLine("4000", "Sales", Decimal("0"), Decimal("120.00")),
                                                 JournalPostLine("6100", "Fees", Decimal("18.00"), Decimal("0")),
                                                 JournalPostLine("1200", "Deposit", Decimal("102.00"), Decimal("0"))])
    batch = sage500_backoffice.post_journal(journal)
    with sage500.engine.connect() as conn:
        amounts = conn.execute(text(
            "SELECT a.GLAcctNo, t.PostAmt FROM tglTransaction t JOIN tglAccount a ON a.GLAcctKey = t.GLAcctKey "
            "JOIN tciBatchLog b ON b.BatchKey = t.BatchKey WHERE b.BatchID = :b ORDER BY a.GLAcctNo"),
            {"b": batch}).all()
    assert [(acct, Decimal(amount)) for acct, amount in amounts] == [
        ("1200", Decimal("102.000")), ("4000", Decimal("-120.000")), ("6100", Decimal("18.000"))]
