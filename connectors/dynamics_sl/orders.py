"""Turning the hub's orders and journals into TI records, after checking they fit SL's columns.

Identifiers that do not fit (order id, item, ship method, account) are refused with an error naming
the field; free text (names, address lines, descriptions) is cut to the column width.
"""

from decimal import Decimal

from connectors.base import ConnectorError
from connectors.dynamics_sl import ti
from connectors.dynamics_sl.tables import Batch, GLTran, SOHeader, SOLine, width

# ConnectorError.code of errors that are the data's fault: the system answered, so health stays good.
REJECTED = "rejected"
CENT = Decimal("0.01")


def _invalid(message):
    return ConnectorError(message, permanent=True, code=REJECTED)


def _identifier(value, table, column, where):
    text = str(value or "").strip()
    if not text:
        raise _invalid(f"{where}: {column} is empty")
    if len(text) > width(table, column):
        raise _invalid(f"{where}: {column} {text!r} is longer than SL's {width(table, column)} characters")
    return text


def _fit(value, table, column):
    return ti.clean(value or "")[:width(table, column)]


def validate_order(order, opts):
    """Refuse an order SL could not take as it is; every message says which field of which line."""
    where = f"Amazon order {order.amazon_order_id}"
    _identifier(order.amazon_order_id, SOHeader, "CustOrdNbr", where)
    if not ti.KEY_PATTERN.match(order.amazon_order_id):
        raise _invalid(f"{where}: the order id may hold only letters, digits and '-'")
    _identifier(order.ship_method, SOHeader, "ShipViaID", f"{where} ship method")
    _identifier(order.currency, SOHeader, "CuryID", f"{where} currency")
    if not order.lines:
        raise _invalid(f"{where} has no lines")
    for number, line in enumerate(order.lines, start=1):
        at = f"{where} line {number}"
        _identifier(line.item_code, SOLine, "InvtID", at)
        _identifier(line.line_ref, SOLine, opts.line_ref_field, f"{at} line_ref")
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity <= 0:
            raise _invalid(f"{at} ({line.item_code}): quantity {line.quantity!r} is not a positive whole number")
        if Decimal(line.unit_price) < 0:
            raise _invalid(f"{at} ({line.item_code}): unit price {line.unit_price} is negative")


def order_records(order, opts):
    """The Order record and one Line record per item, in the order they go into the data file."""
    address = order.address
    name, attention = (address.company, address.name) if address.company else (address.name, "")
    header = {
        "CpnyID": opts.company_id, "CustID": opts.customer_id, "CustOrdNbr": order.amazon_order_id,
        "OrdDate": _local(order.order_date, opts), "SOTypeID": opts.so_type, "ShipViaID": order.ship_method,
        "ShipSiteID": opts.site_id, "CuryID": order.currency,
        "ShipName": _fit(name, SOHeader, "ShipName"), "ShipAttn": _fit(attention, SOHeader, "ShipAttn"),
        "ShipAddr1": _fit(address.line1, SOHeader, "ShipAddr1"),
        "ShipAddr2": _fit(" ".join(filter(None, [address.line2, address.line3])), SOHeader, "ShipAddr2"),
        "ShipCity": _fit(address.city, SOHeader, "ShipCity"),
        # ShipState is a 3-letter state code: a UK county does not fit and is left out.
        "ShipState": address.county if len(address.county) <= width(SOHeader, "ShipState") else "",
        "ShipZip": _fit(address.postcode, SOHeader, "ShipZip"),
        "ShipCountry": _fit(address.country_code, SOHeader, "ShipCountry"),
        "ShipPhone": _fit(address.phone, SOHeader, "ShipPhone"),
    }
    required_by = _local(order.ship_by or order.order_date, opts)
    lines = [("line", {
        "InvtID": line.item_code, "SiteID": opts.site_id, "QtyOrd": line.quantity,
        "SlsPrice": float(Decimal(line.unit_price).quantize(CENT)), "ReqDate": required_by,
        "Descr": _fit(line.description, SOLine, "Descr"), "AmazonLineRef": line.line_ref,
    }) for line in order.lines]
    return [("order", header), *lines]


def validate_journal(journal):
    """Refuse a journal SL would not balance; return its debit total."""
    where = f"GL journal {journal.reference}"
    _identifier(journal.reference, GLTran, "ExtRefNbr", where)
    if not ti.KEY_PATTERN.match(journal.reference):
        raise _invalid(f"{where}: the reference may hold only letters, digits and '-'")
    if not journal.lines:
        raise _invalid(f"{where} has no lines")
    debits = credits = Decimal("0")
    for number, line in enumerate(journal.lines, start=1):
        at = f"{where} line {number}"
        _identifier(line.account, GLTran, "Acct", at)
        debit, credit = Decimal(line.debit), Decimal(line.credit)
        if debit != debit.quantize(CENT) or credit != credit.quantize(CENT):
            raise _invalid(f"{at} (account {line.account}): amounts have more than 2 decimals")
        if debit < 0 or credit < 0 or (debit == 0) == (credit == 0):
            raise _invalid(f"{at} (account {line.account}): needs either a debit or a credit, not negative")
        debits += debit
        credits += credit
    if debits != credits:
        raise _invalid(f"{where} does not balance: debits {debits} and credits {credits}")
    return debits.quantize(CENT)


def journal_records(journal, opts):
    """The Batch record (left unreleased by the control file) and one Transaction record per line."""
    total = sum(Decimal(line.debit) for line in journal.lines)
    batch = {
        "CpnyID": opts.company_id, "LedgerID": opts.ledger_id, "PerPost": f"{journal.date:%Y%m}",
        "JrnlType": opts.gl_journal_type, "Descr": _fit(journal.description, Batch, "Descr"),
        "CuryId": journal.currency, "CtrlTot": float(total),
    }
    lines = [("transaction", {
        "Acct": line.account, "Sub": opts.gl_sub, "TranDate": journal.date,
        "TranDesc": _fit(line.description, GLTran, "TranDesc"),
        "DrAmt": float(line.debit), "CrAmt": float(line.credit), "ExtRefNbr": journal.reference,
    }) for line in journal.lines]
    return [("batch", batch), *lines]


def _local(moment, opts):
    """SL keeps local dates without a zone."""
    return moment.astimezone(opts.tz).replace(tzinfo=None) if moment.tzinfo else moment
