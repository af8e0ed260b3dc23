import pytest

from connectors.base import ConnectorError
from connectors.choices import System
from integration_hub.exchanges.models import Exchange
from integration_hub.exchanges.recorder import completions_later, record, with_completions, write_later

pytestmark = pytest.mark.django_db


def test_one_row_per_call_with_secrets_and_buyer_data_masked():
    request = {"grant_type": "refresh_token", "refresh_token": "Atzr|secret", "client_secret": "shh"}
    response = {"AmazonOrderId": "202-1234567-1234567", "ShippingAddress": {"Name": "Jane Buyer", "City": "Leeds"},
                "BuyerInfo": {"BuyerEmail": "jane@example.com"}, "carrier": {"name": "Royal Mail"}}
    with record(System.AMAZON, "getOrder", correlation_id="202-1234567-1234567", request=request) as call:
        call.done(status=200, response=response, quota="0.5")
    row = Exchange.objects.get()
    assert row.outcome == "ok" and row.http_status == 200 and row.quota_limit == "0.5"
    assert row.latency_ms is not None and row.finished_at
    for secret in ("Atzr|secret", "shh", "Jane Buyer", "jane@example.com", "Leeds"):
        assert secret not in row.request_summary + row.response_summary
    assert "202-1234567-1234567" in row.response_summary
    assert "Royal Mail" in row.response_summary  # a carrier's name is not personal data


def test_failure_is_recorded_with_its_kind_and_reraised():
    with pytest.raises(ConnectorError):
        with record(System.CLARUS, "createGoodsOut", attempt=3):
            raise ConnectorError("product NOPE not found", permanent=True, status=422)
    row = Exchange.objects.get()
    assert (row.outcome, row.http_status, row.attempt) == ("permanent", 422, 3)
    assert "NOPE" in row.error


def test_row_exists_before_the_call_completes():
    with record(System.SAGE500, "spSOapiSalesOrdIns"):
        assert Exchange.objects.get().outcome == "pending"


def test_a_batch_writes_each_completion_with_the_next_calls_row():
    """Found with bench_pipeline: two statements per call (the in-flight row, its completion) were a third of
    the SQL per order. In a worker's batch a completion goes with the next call's row; none is lost."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements, completions_later():
        with record(System.CLARUS, "findGoodsOut", correlation_id="A") as call:
            call.done(status=200, response={"found": []})
        first = Exchange.objects.get(correlation_id="A")
        assert first.outcome == "pending"  # completed, not yet written
        with pytest.raises(ConnectorError), record(System.CLARUS, "createGoodsOut", correlation_id="B"):
            assert Exchange.objects.get(correlation_id="B").outcome == "pending"  # in flight, before the call
            raise ConnectorError("warehouse closed", permanent=False, status=503)
        first.refresh_from_db()
        assert (first.outcome, first.http_status) == ("ok", 200) and first.finished_at and first.latency_ms is not None
        assert Exchange.objects.get(correlation_id="B").outcome == "pending"
    writes = [q["sql"] for q in statements.captured_queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 3  # two in-flight rows (the second with the first's completion) and the last completion
    second = Exchange.objects.get(correlation_id="B")
    assert (second.outcome, second.http_status, second.error) == ("transient", 503, "warehouse closed")
    with record(System.CLARUS, "findGoodsOut", correlation_id="C") as call:  # outside a batch: written at once
        call.done(status=200)
        assert Exchange.objects.get(correlation_id="C").outcome == "ok"


def test_the_statement_that_finishes_the_work_writes_the_completions_first():
    """Found in review: the engine marked an item done while its last call's outcome was still in memory;
    a worker killed then left a row in flight for work that would never run again."""
    with completions_later():
        with record(System.CLARUS, "createGoodsOut", correlation_id="A") as call:
            call.done(status=201)
        assert with_completions("SELECT count(*) FROM exchanges_exchange WHERE outcome = %s", ["ok"]) == (0,)
        assert Exchange.objects.get(correlation_id="A").outcome == "ok"  # written with that statement


def test_a_statement_kept_for_later_goes_with_the_next_one_or_with_the_batch_end():
    table = Exchange._meta.db_table
    mark = f"UPDATE {table} SET error = %s WHERE correlation_id = %s"
    with record(System.CLARUS, "findGoodsOut", correlation_id="A"):
        pass
    assert write_later(mark, ["outside", "A"]) is False  # outside a batch: the caller runs it
    with completions_later():
        assert write_later(mark, ["first", "A"]) is True
        assert Exchange.objects.get(correlation_id="A").error == ""  # not yet
        with record(System.CLARUS, "createGoodsOut", correlation_id="B") as call:
            assert Exchange.objects.get(correlation_id="A").error == "first"  # with B's in-flight row
            call.done(status=201)
        assert write_later(mark, ["second", "A"]) is True
    assert Exchange.objects.get(correlation_id="A").error == "second"  # at the batch's end
    assert Exchange.objects.get(correlation_id="B").outcome == "ok"


@pytest.mark.django_db(transaction=True)
def test_what_waits_is_never_written_inside_a_transaction_that_may_roll_back():
    """Found in review: a call recorded inside transaction.atomic() took the completions and kept statements
    with it, and the rollback lost them."""
    from django.db import transaction

    table = Exchange._meta.db_table
    with completions_later():
        with record(System.CLARUS, "findGoodsOut", correlation_id="A") as call:
            call.done(status=200)
        write_later(f"UPDATE {table} SET error = %s WHERE correlation_id = %s", ["kept", "A"])
        with pytest.raises(RuntimeError), transaction.atomic():
            with record(System.CLARUS, "createGoodsOut", correlation_id="B") as call:
                call.done(status=201)
            raise RuntimeError("the work rolls back")
    first = Exchange.objects.get(correlation_id="A")
    assert (first.outcome, first.error) == ("ok", "kept")  # written at the batch's end, not rolled back


@pytest.mark.django_db(transaction=True)
def test_a_statement_kept_for_later_that_fails_never_blocks_the_next_call(caplog):
    table = Exchange._meta.db_table
    with completions_later():
        write_later(f"UPDATE {table} SET http_status = %s WHERE correlation_id = %s", [70000, "none"])  # too big
        with record(System.CLARUS, "createGoodsOut", correlation_id="B") as call:
            call.done(status=201)
    assert Exchange.objects.get(correlation_id="B").outcome == "ok"
    assert "could not be written" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_completion_that_cannot_be_written_never_blocks_the_next_calls(caplog):
    """Found in review: one completion the database refused made every later call of the batch fail."""
    with completions_later():
        with record(System.CLARUS, "findGoodsOut", correlation_id="A") as call:
            call.done(status=70000)  # more than the column holds
        with record(System.CLARUS, "createGoodsOut", correlation_id="B") as call:
            call.done(status=201)
    assert Exchange.objects.get(correlation_id="A").outcome == "pending"  # left in flight, logged
    assert Exchange.objects.get(correlation_id="B").outcome == "ok"
    assert "stay in flight" in caplog.text


def test_long_bodies_are_cut_to_the_limit(settings):
    settings.EXCHANGE_BODY_LIMIT = 100
    with record(System.AMAZON, "createFeedDocument", request={"data": "x" * 5000}):
        pass
    summary = Exchange.objects.get().request_summary
    assert len(summary) < 200 and "more characters" in summary


def test_exchange_rows_past_retention_are_purged(settings):
    from datetime import timedelta

    from django.utils import timezone

    from integration_hub.exchanges.jobs import purge_old_exchanges

    settings.EXCHANGE_RETENTION_DAYS = 30
    for _ in range(3):
        with record(System.AMAZON, "getOrder"):
            pass
    old = Exchange.objects.order_by("pk")[:2]
    Exchange.objects.filter(pk__in=[row.pk for row in old]).update(started_at=timezone.now() - timedelta(days=31))
    assert purge_old_exchanges() == 2
    assert Exchange.objects.count() == 1


def stored(row):
    return row.request_summary + row.response_summary + row.error


def test_back_office_columns_forms_flat_files_and_errors_keep_no_secret_or_buyer_data():
    secrets_and_buyer = ["sql-pass-word", "Atzr|refresh", "app-secret", "Jane Buyer", "1 High Street", "LS1 4AB",
                         "jane@example.com", "0113 000000", "Leeds", "eyJhbGciOiJIUzI1NiJ9.payload.sig"]
    staged = {"StgSalesOrder": [{"TranCmnt": "202-1234567-1234567", "ShipToName": "Jane Buyer",
                                 "ShipToAddrLine1": "1 High Street", "ShipToCity": "Leeds",
                                 "ShipToPostalCode": "LS1 4AB", "EMailAddr": "jane@example.com",
                                 "Phone": "0113 000000", "velocity_tier": "fast"}],
              "engine": "mssql+pyodbc://hub:sql-pass-word@sage/SAGE"}
    form = "grant_type=refresh_token&refresh_token=Atzr%7Crefresh&client_id=app&client_secret=app-secret"
    flat_file = "Jane Buyer\t1 High Street\tLeeds\tLS1 4AB\n"  # a TI record or a report line
    with pytest.raises(ConnectorError):
        with record(System.SAGE500, "stage", request=staged) as call:
            call.failed("login failed for postgresql://hub:sql-pass-word@db/sage; "
                        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", response=flat_file)
            raise ConnectorError("stage failed", permanent=False)
    with record(System.AMAZON, "lwaToken", request=form) as call:
        call.done(status=502, response="<html><h1>502 Bad Gateway</h1></html>")
    rows = list(Exchange.objects.order_by("pk"))
    for row in rows:
        for value in secrets_and_buyer:
            assert value not in stored(row), (value, stored(row))
    assert "202-1234567-1234567" in rows[0].request_summary and '"velocity_tier": "fast"' in rows[0].request_summary
    assert "characters of text, not kept" in rows[0].response_summary
    assert "postgresql://hub:" in rows[0].error and "Bearer" in rows[0].error
    assert "client_id=app" in rows[1].request_summary and "502 Bad Gateway" in rows[1].response_summary


def test_a_long_body_is_redacted_only_as_far_as_it_is_kept(settings):
    """A search page of many orders is cut at the limit: the kept text is what redacting the whole page
    would give, buyer data and credentials masked, however the cut falls."""
    import json

    from integration_hub.exchanges import redact

    order = {"orderId": "202-1", "buyer": {"buyerEmail": "x@example.com"}, "note": "Bearer abcdefghijklmnop",
             "recipient": {"deliveryAddress": {"addressLine1": "1 High St"}}, "orderItems": [
                 {"orderItemId": "1", "product": {"sellerSku": "SKU-1", "name": "Mug"}, "quantityOrdered": 2}]}
    page = {"orders": [dict(order, orderId=f"202-{n}") for n in range(300)], "pagination": {"nextToken": "t"}}
    for limit in (1, 57, 100, 333, 4000):
        settings.EXCHANGE_BODY_LIMIT = limit
        whole = json.dumps(redact.redact(page), ensure_ascii=False)
        kept = redact.summarise(page)
        assert kept == whole[:limit] + "... [more characters not kept]"
        assert "example.com" not in kept and "High St" not in kept and "abcdefghijklmnop" not in kept
    settings.EXCHANGE_BODY_LIMIT = 10**6
    assert redact.summarise(page) == json.dumps(redact.redact(page), ensure_ascii=False)  # short enough: whole
