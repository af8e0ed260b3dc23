import datetime as dt
import gzip
import io
from decimal import Decimal

import pytest

from integration_hub.finance.parser import SettlementFileError, SettlementReader, parse_amount, parse_datetime
from tests.finance.builders import COLUMNS, line, order_lines, settlement_text
from tests.finance.conftest import as_stream

UTC = dt.timezone.utc


def read_all(text, encoding="utf-8"):
    reader = SettlementReader(as_stream(text, encoding))
    rows = list(reader.rows())
    reader.check_total()
    return reader, rows


def test_summary_row_gives_settlement_id_period_deposit_total_and_currency():
    reader, rows = read_all(settlement_text(order_lines("202-0000001-0000001", "MUG", "10.00"), total="8.50"))
    summary = reader.summary
    assert summary.settlement_id == "12345678901"
    assert summary.start_date == dt.datetime(2026, 11, 1, tzinfo=UTC)
    assert summary.end_date == dt.datetime(2026, 11, 14, 23, 59, 59, tzinfo=UTC)
    assert summary.deposit_date == dt.datetime(2026, 11, 16, tzinfo=UTC)
    assert summary.total_amount == Decimal("8.50")
    assert summary.currency == "GBP"
    assert [(r.line_number, r.amount_description, r.amount) for r in rows] == [
        (3, "Principal", Decimal("10.00")), (4, "Commission", Decimal("-1.50"))]


def test_columns_are_found_by_header_name_whatever_their_order():
    shuffled = list(reversed(COLUMNS)) + ["a-column-amazon-added-later"]
    rows = [line("Order", "ItemPrice", "Principal", "12.34", order_id="202-1-1", sku="MUG", quantity=2,
                 promotion_id="PROMO-1")]
    _, (row,) = read_all(settlement_text(rows, columns=shuffled))
    assert (row.transaction_type, row.order_id, row.sku, row.quantity_purchased, row.amount, row.promotion_id) == (
        "Order", "202-1-1", "MUG", 2, Decimal("12.34"), "PROMO-1")


def test_file_without_promotion_id_column_is_read():
    columns = [c for c in COLUMNS if c != "promotion-id"]
    _, rows = read_all(settlement_text(order_lines("202-1-1", "MUG", "5.00"), columns=columns))
    assert {row.promotion_id for row in rows} == {""}


@pytest.mark.parametrize("text, expected", [
    ("2026-10-03T16:00:00-07:00", dt.datetime(2026, 10, 3, 23, 0, tzinfo=UTC)),
    ("2026-10-03T16:00:00Z", dt.datetime(2026, 10, 3, 16, 0, tzinfo=UTC)),
    ("2026-10-03 16:00:00 UTC", dt.datetime(2026, 10, 3, 16, 0, tzinfo=UTC)),
    ("03.10.2026 16:00:00 UTC", dt.datetime(2026, 10, 3, 16, 0, tzinfo=UTC)),
])
def test_date_times_in_every_format_amazon_writes(text, expected):
    assert parse_datetime(text) == expected


def test_date_only_posted_date_keeps_its_calendar_day_in_the_hubs_time_zone(settings):
    parsed = parse_datetime("31.10.2026")
    assert parsed.tzinfo is not None
    assert parsed.astimezone(dt.timezone.utc).date() <= dt.date(2026, 10, 31)
    from django.utils import timezone
    assert timezone.localtime(parsed).date() == dt.date(2026, 10, 31)
    assert timezone.localtime(parse_datetime("2026-07-01")).date() == dt.date(2026, 7, 1)


def test_unknown_date_format_is_refused():
    with pytest.raises(ValueError, match="is not a date"):
        parse_datetime("10/03/2026")


@pytest.mark.parametrize("text, expected", [
    ("12.34", "12.34"), ("-12,34", "-12.34"), ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("7", "7"),
])
def test_amounts_with_decimal_dot_or_comma(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "12.345", "1,234", "12.3.4"])
def test_ambiguous_or_bad_amounts_are_refused_not_guessed(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_an_amount_too_large_for_the_ledger_is_refused_with_its_text():
    """Found by hypothesis: a 30-digit amount reached the database and failed there (numeric(14, 2))."""
    assert parse_amount("999999999999.99") == Decimal("999999999999.99")
    with pytest.raises(ValueError, match="too large for an amount"):
        parse_amount("999999999999999999999999999999")
    with pytest.raises(ValueError, match="too large"):
        parse_amount("-1000000000000")


def test_eu_file_with_decimal_commas_day_first_dates_windows_1252_and_crlf():
    rows = [line("Order", "ItemPrice", "Principal", "19.99", order_id="305-1-1", sku="TASSE-é", quantity=1,
                 posted="05.11.2026", marketplace="Amazon.de"),
            line("Order", "ItemFees", "Commission", "-3.00", order_id="305-1-1", sku="TASSE-é",
                 posted="05.11.2026", marketplace="Amazon.de")]
    text = settlement_text(rows, currency="EUR", decimal_comma=True, start="01.11.2026 00:00:00 UTC",
                           end="14.11.2026 23:59:59 UTC", deposit="16.11.2026 00:00:00 UTC")
    assert "19,99" in text and "16,99" in text
    reader, parsed = read_all(text.replace("\n", "\r\n"), encoding="cp1252")  # Windows line ends too
    assert reader.summary.total_amount == Decimal("16.99")
    assert reader.summary.end_date == dt.datetime(2026, 11, 14, 23, 59, 59, tzinfo=UTC)
    assert [row.amount for row in parsed] == [Decimal("19.99"), Decimal("-3.00")]
    assert parsed[0].sku == "TASSE-é"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1", "utf-8"])
def test_every_text_encoding_amazon_uses(encoding):
    rows = [line("other-transaction", "other-transaction", "Storage Fee – Café", "-2.00")]
    if encoding == "latin-1":  # no en dash in Latin-1
        rows = [line("other-transaction", "other-transaction", "Storage Fee Café", "-2.00")]
    _, (row,) = read_all(settlement_text(rows), encoding=encoding)
    assert row.amount_description.endswith("Café")
    assert row.transaction_type == "other-transaction"


def test_gzipped_report_is_read():
    text = settlement_text(order_lines("202-1-1", "MUG", "5.00"))
    reader = SettlementReader(io.BytesIO(gzip.compress(text.encode())))
    assert len(list(reader.rows())) == 2


def test_missing_columns_are_named_on_line_1():
    columns = [c for c in COLUMNS if c not in ("amount", "amount-type")]
    with pytest.raises(SettlementFileError) as caught:
        SettlementReader(as_stream(settlement_text([], columns=columns, total="0")))
    assert caught.value.line == 1
    assert "amount-type, amount" in str(caught.value)


def test_bad_number_names_its_line_and_reason():
    rows = order_lines("202-1-1", "MUG", "5.00") + [line("Order", "ItemPrice", "Principal", "12.x4")]
    reader = SettlementReader(as_stream(settlement_text(rows, total="3.50")))
    with pytest.raises(SettlementFileError) as caught:
        list(reader.rows())
    assert caught.value.line == 5
    assert str(caught.value).startswith("line 5: amount: '12.x4' is not an amount")


def test_bad_quantity_and_bad_date_name_their_lines():
    rows = [line("Order", "ItemPrice", "Principal", "1.00", quantity="two")]
    with pytest.raises(SettlementFileError, match="line 3: quantity-purchased"):
        list(SettlementReader(as_stream(settlement_text(rows))).rows())
    rows = [line("Order", "ItemPrice", "Principal", "1.00", posted="yesterday")]
    with pytest.raises(SettlementFileError, match="line 3: posted-date: 'yesterday' is not a date"):
        list(SettlementReader(as_stream(settlement_text(rows))).rows())


def test_wrong_total_is_refused_with_the_difference():
    reader = SettlementReader(as_stream(settlement_text(order_lines("202-1-1", "MUG", "10.00"), total="9.00")))
    list(reader.rows())
    with pytest.raises(SettlementFileError) as caught:
        reader.check_total()
    assert "add up to 8.50 GBP" in str(caught.value)
    assert "total-amount is 9.00" in str(caught.value)
    assert "difference of -0.50" in str(caught.value)


def test_first_row_must_be_the_summary():
    text = settlement_text(order_lines("202-1-1", "MUG", "10.00")).splitlines()
    del text[1]
    with pytest.raises(SettlementFileError, match="line 2: the first row must be the settlement summary"):
        SettlementReader(as_stream("\n".join(text)))


def test_line_in_another_currency_is_refused_explicitly():
    rows = [line("Order", "ItemPrice", "Principal", "1.00", currency="EUR")]
    with pytest.raises(SettlementFileError, match="line 3: currency EUR differs from the settlement's GBP"):
        list(SettlementReader(as_stream(settlement_text(rows))).rows())


def test_overlong_value_is_refused_before_it_reaches_the_database():
    rows = [line("Order", "ItemPrice", "Principal", "1.00", sku="S" * 101)]
    with pytest.raises(SettlementFileError, match="line 3: sku is longer than 100 characters"):
        list(SettlementReader(as_stream(settlement_text(rows))).rows())


def test_rows_are_streamed_not_read_all_at_once(tmp_path):
    rows = order_lines("202-1-1", "MUG", "10.00") * 20_000
    path = tmp_path / "big.txt"
    path.write_text(settlement_text(rows))
    with open(path, "rb") as stream:
        reader = SettlementReader(stream)
        next(reader.rows())
        assert stream.tell() < 100_000 < path.stat().st_size
