"""Streaming reader for Amazon's settlement flat file, GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2.

Layout (FACTS.md section 4.2): tab-separated, a header row, then the summary row (settlement id,
period, deposit date, total, currency), then one row per amount. Columns are found by header name,
never by position. The file is read one line at a time, so a million lines need little memory.

    reader = SettlementReader(binary_stream)      # reads header and summary, raises SettlementFileError
    for row in reader.rows(): ...                  # Row tuples, amounts as Decimal
    reader.check_total()                           # the rows must add up to the summary's total
"""

import codecs
import datetime as dt
import functools
import gzip
import io
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from integration_hub.finance.models import SettlementLine

SUMMARY_COLUMNS = ("settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
                   "total-amount", "currency")
REQUIRED_COLUMNS = SUMMARY_COLUMNS + ("transaction-type", "amount-type", "amount-description", "amount")

# Row field -> header name, for the text columns kept on SettlementLine (blank when a file lacks one).
TEXT_COLUMNS = {
    "transaction_type": "transaction-type", "order_id": "order-id", "merchant_order_id": "merchant-order-id",
    "adjustment_id": "adjustment-id", "shipment_id": "shipment-id", "marketplace_name": "marketplace-name",
    "amount_type": "amount-type", "amount_description": "amount-description", "fulfillment_id": "fulfillment-id",
    "order_item_code": "order-item-code", "sku": "sku", "promotion_id": "promotion-id",
}
MAX_LENGTHS = {name: SettlementLine._meta.get_field(name).max_length for name in TEXT_COLUMNS}


class Row(NamedTuple):
    line_number: int
    transaction_type: str
    order_id: str
    merchant_order_id: str
    adjustment_id: str
    shipment_id: str
    marketplace_name: str
    amount_type: str
    amount_description: str
    fulfillment_id: str
    order_item_code: str
    sku: str
    promotion_id: str
    amount: Decimal
    posted_date: dt.datetime | None
    quantity_purchased: int | None


@dataclass(frozen=True)
class Summary:
    settlement_id: str
    start_date: dt.datetime
    end_date: dt.datetime
    deposit_date: dt.datetime | None
    total_amount: Decimal
    currency: str


class SettlementFileError(ValueError):
    """The file is not a settlement report the hub can import; says where and why."""

    def __init__(self, reason, line=None):
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


# ---- values -----------------------------------------------------------------------------

_AMOUNT = re.compile(r"[+-]?\d+(\.\d{1,2})?")
# Amounts are stored as numeric(14, 2): a larger one is refused with the line, not a database error.
AMOUNT_LIMIT = Decimal(10) ** 12
_DAY_FIRST = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})(.*)")
DATE_FORMATS = "ISO 8601, YYYY-MM-DD HH:MM:SS UTC, DD.MM.YYYY HH:MM:SS UTC or a date alone"


def parse_amount(text):
    """A money amount with a decimal dot or comma ("-12.34", "1.234,56"), at most two decimals."""
    value = text.strip()
    if "," in value:
        if "." in value and value.rfind(".") > value.rfind(","):
            value = value.replace(",", "")  # 1,234.56
        else:
            value = value.replace(".", "").replace(",", ".")  # 1.234,56 or 12,34
    if not _AMOUNT.fullmatch(value):
        raise ValueError(f"{text!r} is not an amount (digits with a decimal dot or comma, at most 2 decimals)")
    amount = Decimal(value)
    if abs(amount) >= AMOUNT_LIMIT:
        raise ValueError(f"{text!r} is too large for an amount (at most 12 digits before the decimal point)")
    return amount


def parse_datetime(text, local_tz=None):
    """A date or date-time in any format Amazon writes; aware. A date alone is midnight in the hub's time zone."""
    value = text.strip()
    if not value:
        return None
    is_utc = value.endswith("UTC")
    if is_utc:
        value = value[:-3].strip()
    day_first = _DAY_FIRST.fullmatch(value)
    if day_first:
        day, month, year, rest = day_first.groups()
        value = f"{year}-{month}-{day}{rest}"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date ({DATE_FORMATS})") from None
    if parsed.tzinfo is None:
        if len(value) == 10 and not is_utc:  # date only: keep the calendar day in the hub's books
            return timezone.make_aware(parsed, local_tz or timezone.get_default_timezone())
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def parse_quantity(text):
    value = text.strip()
    if not value:
        return None
    if not value.lstrip("-").isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


# ---- the file ---------------------------------------------------------------------------


def _decoded_lines(stream, encoding=None):
    """Text lines of a (possibly gzipped) binary stream in any encoding Amazon uses.

    UTF-16 is recognised by its byte order mark; otherwise each line is read as UTF-8 and, when it
    is not valid UTF-8, as Windows-1252 (the Latin-1 superset European reports use). A gzipped file
    that is damaged or cut short is a SettlementFileError, wherever the damage is found.
    """
    try:
        yield from _lines_of(stream, encoding)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise SettlementFileError(f"the gzipped file is damaged or cut short ({exc or type(exc).__name__})") from None


def _lines_of(stream, encoding):
    head = stream.read(4)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)
        head = stream.read(4)
        stream.seek(0)
    if encoding is None and head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    if encoding:
        for line in io.TextIOWrapper(stream, encoding=encoding, newline=""):
            yield line.lstrip("\ufeff").rstrip("\r\n")
        return
    first = True
    for raw in stream:
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace").rstrip("\r\n")


class SettlementReader:
    """Reads the header and summary on creation; `rows()` then streams the detail rows once."""

    def __init__(self, stream, encoding=None, local_tz=None):
        self._local_tz = local_tz or timezone.get_default_timezone()
        self._lines = enumerate(_decoded_lines(stream, encoding), start=1)
        self._dates = {}
        self.total = Decimal("0")
        self.count = 0
        try:
            self._read_header()
            self.summary = self._read_summary()
        except UnicodeDecodeError as exc:
            raise SettlementFileError(f"the file cannot be decoded: {exc}") from None

    def _next_line(self):
        for number, line in self._lines:
            if line.strip():
                return number, line.split("\t")
        return None, None

    def _read_header(self):
        number, cells = self._next_line()
        if cells is None:
            raise SettlementFileError("the file is empty")
        names = [cell.strip().lower() for cell in cells]
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise SettlementFileError(
                f"not a V2 settlement report: the header lacks {', '.join(missing)}", line=number)
        self._width = len(names)
        self._index = {name: position for position, name in enumerate(names)}
        self._text = [(field, self._index.get(header)) for field, header in TEXT_COLUMNS.items()]

    def _cells(self, number, cells):
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        elif len(cells) > self._width and any(cell.strip() for cell in cells[self._width:]):
            raise SettlementFileError(f"{len(cells)} columns but the header has {self._width}", line=number)
        return cells

    def _value(self, cells, name):
        position = self._index.get(name)
        return cells[position].strip() if position is not None else ""

    def _read_summary(self):
        number, cells = self._next_line()
        if cells is None:
            raise SettlementFileError("the file has a header but no summary row")
        cells = self._cells(number, cells)
        value = functools.partial(self._value, cells)
        if value("transaction-type") or value("amount") or not value("total-amount"):
            raise SettlementFileError("the first row must be the settlement summary "
                                      "(settlement-id, dates, total-amount, currency)", line=number)
        settlement_id = value("settlement-id")
        if not (settlement_id.isdigit() and len(settlement_id) <= 20):
            raise SettlementFileError(f"settlement-id {settlement_id!r} is not 1-20 digits", line=number)
        currency = value("currency").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise SettlementFileError(f"currency {currency!r} is not a three-letter code", line=number)
        try:
            summary = Summary(
                settlement_id=settlement_id,
                start_date=self._required_date(value, "settlement-start-date"),
                end_date=self._required_date(value, "settlement-end-date"),
                deposit_date=parse_datetime(value("deposit-date"), self._local_tz),
                total_amount=self._amount(value("total-amount"), "total-amount"),
                currency=currency,
            )
        except ValueError as exc:
            raise SettlementFileError(str(exc), line=number) from None
        if summary.end_date < summary.start_date:
            raise SettlementFileError("settlement-end-date is before settlement-start-date", line=number)
        return summary

    def _required_date(self, value, name):
        parsed = parse_datetime(value(name), self._local_tz)
        if parsed is None:
            raise ValueError(f"{name} is empty")
        return parsed

    @staticmethod
    def _amount(text, name):
        try:
            return parse_amount(text)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None

    def _date(self, text):
        parsed = self._dates.get(text)
        if parsed is None and text:
            if len(self._dates) > 50_000:  # posted-date-time can be unique per line: keep the cache small
                self._dates.clear()
            parsed = self._dates[text] = parse_datetime(text, self._local_tz)
        return parsed

    def rows(self):
        """The detail rows, once, in file order. Raises SettlementFileError at the first bad line."""
        summary = self.summary
        index = self._index
        amount_at = index["amount"]
        posted_at = index.get("posted-date-time", index.get("posted-date"))
        posted_fallback = index.get("posted-date")
        quantity_at = index.get("quantity-purchased")
        for number, line in self._lines:
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != self._width:
                cells = self._cells(number, cells)
            try:
                row = self._row(number, cells, amount_at, posted_at, posted_fallback, quantity_at)
            except ValueError as exc:
                raise SettlementFileError(str(exc), line=number) from None
            if cells[index["total-amount"]].strip():
                raise SettlementFileError("a second summary row (two reports joined in one file?)", line=number)
            other = cells[index["settlement-id"]].strip()
            if other and other != summary.settlement_id:
                raise SettlementFileError(
                    f"belongs to settlement {other}, not {summary.settlement_id}", line=number)
            currency = cells[index["currency"]].strip().upper()
            if currency and currency != summary.currency:
                raise SettlementFileError(
                    f"currency {currency} differs from the settlement's {summary.currency}; Amazon settles each "
                    "currency in its own report, import each on its own", line=number)
            self.total += row.amount
            self.count += 1
            yield row

    def _row(self, number, cells, amount_at, posted_at, posted_fallback, quantity_at):
        texts = []
        for field, position in self._text:
            text = cells[position].strip() if position is not None else ""
            if len(text) > MAX_LENGTHS[field]:
                raise ValueError(f"{TEXT_COLUMNS[field]} is longer than {MAX_LENGTHS[field]} characters")
            texts.append(text)
        try:
            amount = parse_amount(cells[amount_at])
        except ValueError as exc:
            raise ValueError(f"amount: {exc}") from None
        posted = cells[posted_at].strip() if posted_at is not None else ""
        if not posted and posted_fallback is not None:
            posted = cells[posted_fallback].strip()
        try:
            posted_date = self._date(posted)
        except ValueError as exc:
            raise ValueError(f"posted-date: {exc}") from None
        try:
            quantity = parse_quantity(cells[quantity_at]) if quantity_at is not None else None
        except ValueError as exc:
            raise ValueError(f"quantity-purchased: {exc}") from None
        return Row(number, *texts, amount, posted_date, quantity)

    def check_total(self):
        """The detail rows must add up to the summary's total, to the penny."""
        difference = self.total - self.summary.total_amount
        if difference:
            raise SettlementFileError(
                f"the {self.count} detail lines add up to {self.total} {self.summary.currency} but the summary's "
                f"total-amount is {self.summary.total_amount}: a difference of {difference}")
