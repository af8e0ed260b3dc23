"""The Data Migration protocol: stage rows under a session, run an API procedure, read the outcome.

    rows = sales_order_rows(options, orders)              # checked before anything is sent
    session = open_session(conn, options)                 # spGetNextSurrogateKey + tsmMigrateSession
    stage(conn, session, rows)                            # StgSalesOrder + StgSOLine, ProcessStatus 0
    outputs = run_api_procedure(conn, name, options, session)   # one call; loop while outputs.more
    outcome = read_outcome(conn, staging_table, session)  # ProcessStatus counts + tdmMigrationLogWrk

Each function works inside the caller's transaction; the client records each as one call.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text

from connectors.base import ConnectorError
from connectors.sage500.amazon_ids import to_user_field
from connectors.sage500.procedures import OUT, call_procedure, next_surrogate_key

logger = logging.getLogger(__name__)

# Row status (ProcessStatus) and Action codes of the staging tables, and log Status values.
NOT_PROCESSED, PROCESSED, FAILED = 0, 1, 2
INSERT, UPDATE = 1, 2
LOG_FAILURE, LOG_WARNING = 1, 2
REPORT_ALL = 0  # @_iRptOption: 0 all, 1 none, 2 good, 3 bad
RET_SUCCESS, RET_PARAMETER_ERROR = 1, 3
MAX_ITEM_ID = 30


@dataclass
class ProcedureOutputs:
    """The OUTPUT parameters of one API procedure call."""

    more: bool
    processed: int
    failed: int
    total: int
    ret_val: int


@dataclass
class Outcome:
    """What a session left behind: staged rows by ProcessStatus and its failure/warning log rows."""

    statuses: dict
    failures: list
    warnings: list


def open_session(conn, options):
    """A new migration session for the company (and its tsmCompanySetup row if missing)."""
    session = next_surrogate_key(conn, "tsmMigrateSession")
    conn.execute(text(
        "INSERT INTO tsmMigrateSession (MigrateSessionKey, CompanyID, SetupStepKey, UserID, StartTime) "
        "VALUES (:session, :company_id, :step, :user_id, :now)"
    ), {"session": session, "company_id": options.company_id, "step": options.setup_step_key,
        "user_id": options.user_id, "now": dt.datetime.now()})
    conn.execute(text(
        "INSERT INTO tsmCompanySetup (CompanyID, SetupStepKey) SELECT c.CompanyID, :step FROM tsmCompany c "
        "WHERE c.CompanyID = :company_id AND NOT EXISTS ("
        " SELECT 1 FROM tsmCompanySetup s WHERE s.CompanyID = c.CompanyID AND s.SetupStepKey = :step)"
    ), {"company_id": options.company_id, "step": options.setup_step_key})
    return session


def insert_rows(conn, table, rows):
    """INSERT dict rows (same keys) into `table`; names come from code or checked options only."""
    if rows:
        columns = list(rows[0])
        conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) "
                          f"VALUES ({', '.join(':' + c for c in columns)})"), rows)


def local(moment, options):
    """An aware datetime as the Sage server's naive local time; None stays None."""
    return moment.astimezone(options.zone).replace(tzinfo=None) if moment else None


def fit(value, width, order_id, field):
    """Text cut to a column width, with a warning (never the value: it may be buyer data)."""
    value = (value or "").strip()
    if len(value) > width:
        logger.warning("Sage 500 order %s: %s cut to %s characters", order_id, field, width)
    return value[:width]


def order_rows(options, link, order):
    """The StgSalesOrder row and StgSOLine rows for one Amazon order (SessionKey set when staged)."""
    order_id = order.amazon_order_id
    if not order.lines:
        raise ConnectorError(f"Amazon order {order_id} has no lines to send to Sage 500", permanent=True)
    address = order.address
    street = [part for part in (address.company, address.line1, address.line2, address.line3, address.county)
              if part and part.strip()]
    header = {
        "ProcessStatus": NOT_PROCESSED, "Action": INSERT, "CompanyID": options.company_id, "TranNo": link,
        "TranDate": local(order.order_date, options),
        "Status": "Open", "CustID": options.customer_id, "CurrID": order.currency[:3],
        "DfltShipToAddrName": fit(address.name, 40, order_id, "ship-to name"),
        "DfltShipToCity": fit(address.city, 20, order_id, "city"),
        "DfltShipToPostalCode": fit(address.postcode, 10, order_id, "postcode"),
        "DfltShipToCountryID": fit(address.country_code, 3, order_id, "country"),
        "DfltShipMethID": order.ship_method, "DfltWarehouseID": options.warehouse_id,
        "DfltShipDate": local(order.ship_by, options), "DfltRequestDate": local(order.ship_by, options),
        "ContactName": fit(address.name, 40, order_id, "contact name"),
        # CustPONo (15) cannot hold the 19-character id: the comment carries it readably, the user
        # field in a reversible compact form the connector looks orders up by.
        "TranCmnt": f"Amazon {order_id}"[:50],
        options.amazon_id_field: to_user_field(order_id, options.user_field_width),
    }
    for number in range(1, 6):
        part = street[number - 1] if number <= len(street) else ""
        header[f"DfltShipToAddrLine{number}"] = fit(part, 40, order_id, f"address line {number}")
    lines = []
    for number, line in enumerate(order.lines, 1):
        where = f"Amazon order {order_id} line {number} ({line.item_code!r})"
        if len(line.item_code) > MAX_ITEM_ID:
            raise ConnectorError(f"{where}: item code is longer than Sage's {MAX_ITEM_ID} characters",
                                 permanent=True)
        if len(line.line_ref) > options.user_field_width:
            raise ConnectorError(f"{where}: line id {line.line_ref!r} does not fit {options.line_ref_field}",
                                 permanent=True)
        if line.quantity <= 0:
            raise ConnectorError(f"{where}: quantity must be positive, not {line.quantity}", permanent=True)
        price = Decimal(line.unit_price)
        lines.append({
            "ProcessStatus": NOT_PROCESSED, "Action": INSERT, "TranNo": link,
            "SOLineNo": number, "ItemID": line.item_code, "Description": (line.description or "")[:40],
            "QtyOrd": line.quantity, "UnitPrice": price,
            "ExtAmt": (price * line.quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            options.line_ref_field: line.line_ref,
        })
    return header, lines


def sales_order_rows(options, orders):
    """{staging table: rows} for orders; TranNo links each header to its lines within the session."""
    headers, lines = [], []
    for link, order in enumerate(orders, 1):
        header, order_lines = order_rows(options, str(link), order)
        headers.append(header)
        lines.extend(order_lines)
    return {options.order_staging_table: headers, options.order_line_staging_table: lines}


def cancellation_rows(options, tran_no):
    """{staging table: rows} updating order `tran_no` to status Canceled."""
    return {options.order_staging_table: [{
        "ProcessStatus": NOT_PROCESSED, "Action": UPDATE, "CompanyID": options.company_id,
        "TranNo": tran_no, "Status": "Canceled", "CustID": options.customer_id,
    }]}


def journal_rows(options, journal):
    """{staging table: rows} for a journal's lines, grouped by its reference."""
    if not journal.lines:
        raise ConnectorError(f"Journal {journal.reference} has no lines to send to Sage 500", permanent=True)
    return {options.gl_staging_table: [{
        "ProcessStatus": NOT_PROCESSED, "Action": INSERT, "CompanyID": options.company_id,
        "Reference": journal.reference, "TranDate": dt.datetime.combine(journal.date, dt.time()),
        "GLAcctNo": line.account, "TranDesc": (line.description or journal.description)[:50],
        "DebitAmt": Decimal(line.debit), "CreditAmt": Decimal(line.credit), "CurrID": journal.currency[:3],
    } for line in journal.lines]}


def stage(conn, session, rows_by_table):
    """Insert prepared staging rows under `session` (tables in order: headers before lines)."""
    for table, rows in rows_by_table.items():
        insert_rows(conn, table, [{"SessionKey": session, **row} for row in rows])


def run_api_procedure(conn, procedure, options, session):
    """One call of an API procedure with the vendor's 11 positional parameters."""
    outputs = call_procedure(conn, procedure, [
        OUT,                 # @_oContinue
        0,                   # @_iCancel
        session,             # @_iSessionKey
        options.company_id,  # @_iCompanyID
        REPORT_ALL,          # @_iRptOption
        1,                   # @_iPrintWarnings
        1,                   # @_iUseStageTable
        OUT, OUT, OUT, OUT,  # @_oRecsProcessed, @_oFailedRecs, @_oTotalRecs, @_oRetVal
    ])
    more, processed, failed, total, ret_val = (value or 0 for value in outputs)
    return ProcedureOutputs(more=more == 1, processed=processed, failed=failed, total=total, ret_val=ret_val)


def read_outcome(conn, staging_table, session):
    """The session's staged rows by ProcessStatus and its failure and warning log rows."""
    statuses = dict(conn.execute(text(
        f"SELECT ProcessStatus AS status, COUNT(*) AS n FROM {staging_table} "
        "WHERE SessionKey = :session GROUP BY ProcessStatus"
    ), {"session": session}).all())
    log = conn.execute(text(
        "SELECT EntityID AS entity_id, ColumnID AS column_id, ColumnValue AS column_value, Comment AS comment, "
        "Status AS status FROM tdmMigrationLogWrk WHERE SessionKey = :session AND Status IN (1, 2)"
    ), {"session": session}).mappings().all()
    return Outcome(
        statuses=statuses,
        failures=[row["comment"].strip() for row in log if row["status"] == LOG_FAILURE],
        warnings=[row["comment"].strip() for row in log if row["status"] == LOG_WARNING],
    )


def check_outcome(what, procedure, outputs, outcome):
    """Raise the ConnectorError a finished session calls for, or return quietly."""
    for warning in outcome.warnings:
        logger.warning("Sage 500 %s: %s warned: %s", what, procedure, warning)
    texts = "; ".join(outcome.failures) or "no error text in tdmMigrationLogWrk"
    if outputs.ret_val == RET_PARAMETER_ERROR:
        raise ConnectorError(f"Sage 500 {procedure} refused its parameters for {what}: {texts}",
                             permanent=True, code="parameters")
    if outputs.ret_val != RET_SUCCESS:
        raise ConnectorError(f"Sage 500 {procedure} returned {outputs.ret_val} for {what}: {texts}",
                             permanent=False, code="failed")
    if outcome.failures or outputs.failed or outcome.statuses.get(FAILED):
        raise ConnectorError(f"Sage 500 rejected {what}: {texts}", permanent=True, code="rejected")
    if outcome.statuses.get(NOT_PROCESSED):
        raise ConnectorError(f"Sage 500 {procedure} left {what} unprocessed", permanent=False, code="failed")
