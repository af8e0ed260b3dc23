"""Microsoft Dynamics SL: reads by SQL, writes as Transaction Import (TI) files for an on-site agent.

Connection fields: `endpoint` = SQLAlchemy URL of the SL application database
(`mssql+pymssql://sqlhost:1433/SLAPP` or `mssql+pyodbc://...`; the emulator uses
`postgresql+psycopg://...`), `username`/`secret` = the SQL login (put into the URL here, never logged).

Options (`connection.options`), [I] = inferred, confirm on site:
    company_id            required  SL CpnyID: every read and write is scoped to it
    site_id               required  SiteID (warehouse) that order lines ship from
    ti_drop_dir           required  folder the TI agent imports from (.csv data + .job trigger files)
    ti_log_dir            required  folder where the agent writes `<stem>.log`
    schema                ""        database schema of the SL tables ("" = the login's default, dbo)
    customer_id           AMAZON    SL CustID the Amazon orders are booked to
    so_type               SO        SOTypeID of the orders
    stock_sites           []        SiteIDs whose stock is read ([] = all sites of the company)
    line_ref_field        User1     SOLine user field (User1/User2) holding Amazon's OrderItemId [I]
    ledger_id             ACTUAL    GL ledger of journal batches
    gl_sub                000000    subaccount put on every journal line [I: segmented per site]
    gl_journal_type       GJ        JrnlType of journal batches
    so_control_file       SO40100.ctl   TI control file for sales orders (screen 40.100.00) [I]
    cancel_control_file   SO40100C.ctl  TI control file for cancellations [I]
    gl_control_file       GL01010.ctl   TI control file for GL batches (screen 01.010.00) [I]
    ti_levels             {"order": "Order", "line": "Line", "cancel": "Cancel", "batch": "Batch",
                           "transaction": "Transaction"}  level names in the data files [I]
    ti_wait_seconds       120       how long a call waits for the agent to import its file
    ti_poll_seconds       2         how often it looks while waiting
    ti_error_regex        \\bError:  what marks an error line in a TI log [I]
    ti_transient_regex    deadlock|timed out|locked by|in use   TI errors worth retrying [I]
    dispatch_settle_seconds 120     shippers newer than this are left for the next read (see list_dispatches)
    dispatch_page_size    200       shippers per list_dispatches page
    time_zone             Europe/London  zone of SL's local dates
    inactive_status_codes ["IN", "DE"]   Inventory.TranStatusCode values that mean inactive [I]

The SQL Server drivers are an optional extra, not in requirements.txt: `pip install pymssql`
(or `pyodbc` with Microsoft's ODBC driver) on hubs that talk to a real SL database.
"""

import datetime as dt
import functools
import logging
import re
import time

from django.utils import timezone
from sqlalchemy import exc as sa_exc

from connectors.base import BackOffice, ConnectorError, DispatchPage, NotInBackOffice, SalesOrderStatus
from connectors.choices import System
from connectors.dynamics_sl import queries, ti
from connectors.dynamics_sl.options import SLOptions
from connectors.dynamics_sl.orders import (
    REJECTED,
    journal_records,
    order_records,
    validate_journal,
    validate_order,
)
from connectors.dynamics_sl.tables import for_schema
from connectors.sql import engine_for, safe_url
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)

SQL_TRIES = 3
TRANSIENT_SQL = re.compile(r"(?i)deadlock|40P01|40001|\b1205\b|timeout|timed out|could not connect|connection")
LINE_NUMBER = re.compile(r"(?i)\bline\s+(\d+)")


def _tracked(method):
    """Keep the connection's health current: transport and set-up errors count, rejected data does not."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except ConnectorError as exc:
            if exc.code == REJECTED:
                self.connection.record_success()
            else:
                self.connection.record_failure(exc.message)
            raise
        self.connection.record_success()
        return result

    return wrapper


class DynamicsSLBackOffice(BackOffice):
    """Dynamics SL through SQL reads and Transaction Import drops."""

    @property
    def options(self):
        return SLOptions.parse(self.connection.options)

    # ---- BackOffice ------------------------------------------------------------------------

    @_tracked
    def test_connection(self):
        opts = self.options
        orders = self._sql("test_connection", opts.company_id, lambda conn: queries.order_totals(conn, opts))
        for folder in (opts.ti_drop_dir, opts.ti_log_dir):
            if not folder.is_dir():
                raise ConnectorError(f"TI folder {folder} does not exist or is not reachable", permanent=False)
        return f"Dynamics SL company {opts.company_id} at {safe_url(self.connection.endpoint)}: {orders} orders"

    @_tracked
    def create_sales_order(self, order):
        opts = self.options
        order_id = order.amazon_order_id
        validate_order(order, opts)
        # The drop folder is read before SOHeader: the agent removes a file only after its import
        # committed, so "nothing waiting, then no order" means nothing is on its way.
        waiting = ti.pending(opts.ti_drop_dir, ti.SALES_ORDER, order_id)
        existing = self._status(opts, order_id)
        if existing:
            return existing[0]
        records = order_records(order, opts)
        if waiting:
            stem = waiting[0]
            logger.info("SL order for %s is still waiting in TI file %s; not dropping another", order_id, stem)
        else:
            stem = self._drop("create_sales_order", order_id, ti.SALES_ORDER, opts.so_control_file, records, opts)

        def imported(conn):
            found = queries.order_status(conn, opts, order_id)
            return found[0] if found else None

        return self._await_import("create_sales_order", order_id, stem, imported, records, opts)

    @_tracked
    def cancel_sales_order(self, amazon_order_id):
        opts = self.options
        waiting = ti.pending(opts.ti_drop_dir, ti.CANCEL, amazon_order_id)
        current = self._status(opts, amazon_order_id)
        if current is None:
            if ti.pending(opts.ti_drop_dir, ti.SALES_ORDER, amazon_order_id):
                # The create is still queued for the TI agent: the order will exist, so cancel it then.
                raise ConnectorError(f"the SL order for {amazon_order_id} is still waiting in a TI file; "
                                     "cancelling once it is imported", permanent=False)
            raise NotInBackOffice(f"Dynamics SL holds no order for Amazon order {amazon_order_id} "
                                  f"(company {opts.company_id})")
        order_nbr, _, cancelled, dispatched = current
        if cancelled:
            return
        if dispatched:
            raise ConnectorError(f"SL order {order_nbr} for {amazon_order_id} has shipped; it cannot be cancelled",
                                 permanent=True, code=REJECTED)
        records = [("cancel", {"CpnyID": opts.company_id, "OrdNbr": order_nbr, "CustOrdNbr": amazon_order_id})]
        stem = waiting[0] if waiting else self._drop(
            "cancel_sales_order", amazon_order_id, ti.CANCEL, opts.cancel_control_file, records, opts)

        def cancelled_now(conn):
            found = queries.order_status(conn, opts, amazon_order_id)
            return bool(found and found[2])

        self._await_import("cancel_sales_order", amazon_order_id, stem, cancelled_now, records, opts)

    def find_sales_order(self, amazon_order_id):
        opts = self.options
        waiting = ti.pending(opts.ti_drop_dir, ti.SALES_ORDER, amazon_order_id)  # read before SOHeader
        found = super().find_sales_order(amazon_order_id)
        if found is None and waiting:
            raise ConnectorError(f"the SL order for {amazon_order_id} is still waiting in TI file {waiting[0]}",
                                 permanent=False)
        return found

    @_tracked
    def get_sales_order_status(self, amazon_order_id):
        found = self._status(self.options, amazon_order_id)
        if found is None:
            return None
        order_nbr, status, cancelled, dispatched = found
        return SalesOrderStatus(amazon_order_id=amazon_order_id, back_office_ref=order_nbr, status=status,
                                cancelled=cancelled, dispatched=dispatched and not cancelled)

    @_tracked
    def list_dispatches(self, cursor=""):
        """Confirmed shippers in (LUpd_DateTime, ShipperID) order, the cursor being the last one read.

        LUpd_DateTime changes when a shipper is confirmed, and ShipperID breaks ties (SL stamps
        LUpd_DateTime to the minute). Shippers stamped within `dispatch_settle_seconds` of the
        database clock are left for the next read, so one whose transaction commits late, or that
        shares a minute with one already read, is not skipped. `tstamp` (rowversion) would be finer,
        but it also changes on every later edit (invoicing) and would list dispatches again.
        """
        opts = self.options
        after = _parse_cursor(cursor)

        def read(conn):
            cutoff = queries.database_now(conn) - dt.timedelta(seconds=opts.dispatch_settle_seconds)
            rows = queries.dispatch_rows(conn, opts, after, cutoff)
            lines = queries.dispatch_lines(conn, opts, [row.ShipperID.rstrip() for row in rows])
            return rows, lines

        rows, lines = self._sql("list_dispatches", cursor, read, request={"cursor": cursor})
        if not rows:
            return DispatchPage(dispatches=[], cursor=cursor)
        last = rows[-1]
        return DispatchPage(dispatches=queries.group_dispatches(rows, lines, opts.tz),
                            cursor=f"{last.LUpd_DateTime.isoformat()}|{last.ShipperID.rstrip()}")

    @_tracked
    def dispatches_for_order(self, amazon_order_id):
        opts = self.options

        def read(conn):
            rows = queries.order_dispatch_rows(conn, opts, amazon_order_id)
            return rows, queries.dispatch_lines(conn, opts, [row.ShipperID.rstrip() for row in rows])

        rows, lines = self._sql("dispatches_for_order", amazon_order_id, read,
                                request={"amazon_order_id": amazon_order_id})
        return queries.group_dispatches(rows, lines, opts.tz)

    @_tracked
    def get_stock(self, item_codes=None):
        opts = self.options
        codes = None if item_codes is None else [str(code) for code in item_codes]
        now = timezone.now()
        return self._sql("get_stock", ",".join(codes or [])[:200],
                         lambda conn: queries.stock(conn, opts, codes, now), request={"items": codes})

    @_tracked
    def list_items(self):
        opts = self.options
        return self._sql("list_items", "", lambda conn: queries.items(conn, opts))

    @_tracked
    def list_ship_methods(self):
        opts = self.options
        return self._sql("list_ship_methods", opts.company_id, lambda conn: queries.ship_methods(conn, opts))

    @_tracked
    def post_journal(self, journal):
        opts = self.options
        reference = journal.reference
        debits = validate_journal(journal)
        waiting = ti.pending(opts.ti_drop_dir, ti.GL_BATCH, reference)
        found = self._sql("post_journal.find", reference, lambda conn: queries.journal_batch(conn, opts, reference))
        if found:
            return _same_total(found, debits, reference)
        records = journal_records(journal, opts)
        stem = waiting[0] if waiting else self._drop(
            "post_journal", reference, ti.GL_BATCH, opts.gl_control_file, records, opts)
        found = self._await_import("post_journal", reference, stem,
                                   lambda conn: queries.journal_batch(conn, opts, reference), records, opts)
        return _same_total(found, debits, reference)

    # ---- plumbing --------------------------------------------------------------------------

    def _engine(self, opts):
        return for_schema(engine_for(self.connection), opts.schema)

    def _status(self, opts, amazon_order_id):
        return self._sql("find_order", amazon_order_id,
                         lambda conn: queries.order_status(conn, opts, amazon_order_id))

    def _sql(self, operation, correlation_id, work, request=None):
        """Run `work(conn)` against SL, one exchange row per attempt; transient errors are tried again."""
        for attempt in range(1, SQL_TRIES + 1):
            try:
                with record(System.DYNAMICS_SL, operation, connection=self.connection,
                            correlation_id=correlation_id, request=request, attempt=attempt):
                    try:
                        with self._engine(self.options).connect() as conn:
                            return work(conn)
                    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
                        raise self._database_error(operation, exc) from exc
            except ConnectorError as error:
                if error.permanent or attempt == SQL_TRIES:
                    raise
                logger.warning("Dynamics SL %s attempt %s failed: %s", operation, attempt, error.message)
                time.sleep(0.2 * attempt)

    def _database_error(self, operation, exc):
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if self.connection.secret:
            text = text.replace(self.connection.secret, "***")
        transient = isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)) or bool(
            TRANSIENT_SQL.search(text))
        return ConnectorError(f"Dynamics SL {operation}: {text}", permanent=not transient)

    def _drop(self, operation, key, kind, control_file, records, opts):
        request = {"control": control_file, "records": [{"level": level, **_loggable(values)}
                                                        for level, values in records]}
        with record(System.DYNAMICS_SL, f"{operation}.ti_drop", connection=self.connection, correlation_id=key,
                    request=request) as call:
            try:
                stem = ti.drop(opts.ti_drop_dir, kind, key, control_file, ti.data_text(records, opts.ti_levels))
            except OSError as exc:
                raise ConnectorError(f"cannot write the TI file into {opts.ti_drop_dir}: {exc}",
                                     permanent=False) from exc
            call.done(response={"file": f"{stem}.csv"})
        logger.info("dropped TI file %s for %s", stem, key)
        return stem

    def _await_import(self, operation, key, stem, lookup, records, opts):
        """Wait (bounded) until `lookup(conn)` finds the imported record or the TI log reports errors."""
        deadline = time.monotonic() + opts.ti_wait_seconds
        with record(System.DYNAMICS_SL, f"{operation}.ti_wait", connection=self.connection, correlation_id=key,
                    request={"file": stem, "wait_seconds": opts.ti_wait_seconds}) as call:
            while True:
                log = ti.read_log(opts.ti_log_dir, stem)
                errors = ti.error_lines(log, opts.ti_error_regex) if log else []
                if errors:
                    raise _rejected(stem, errors, records, opts)
                try:
                    with self._engine(opts).connect() as conn:
                        found = lookup(conn)
                except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
                    raise self._database_error(operation, exc) from exc
                if found:
                    call.done(response={"file": stem, "found": str(found)})
                    return found
                if log and ti.interrupted(log):
                    raise ConnectorError(f"the TI agent stopped while importing {stem} and did not import it; "
                                         "the next try sends it again", permanent=False)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConnectorError(
                        f"Transaction Import has not imported {stem} within {opts.ti_wait_seconds:g} s; "
                        "the file stays in the drop folder and the next try waits for it", permanent=False)
                time.sleep(min(opts.ti_poll_seconds, remaining))


def _rejected(stem, errors, records, opts):
    """The TI log's own error lines, each naming the item of the data line it points at."""
    described = []
    for line in errors:
        match = LINE_NUMBER.search(line)
        index = int(match.group(1)) - 1 if match else -1
        level, values = records[index] if 0 <= index < len(records) else (None, {})
        item = values.get("InvtID") or values.get("Acct")
        described.append(f"{line} [{level} {item}]" if item and item not in line else line)
    text = "; ".join(described)
    permanent = not re.search(opts.ti_transient_regex, text)
    return ConnectorError(f"Transaction Import rejected {stem}: {text}", permanent=permanent,
                          code=REJECTED if permanent else "")


def _same_total(found, debits, reference):
    """An existing batch for the reference counts as posted only if it carries the same total."""
    batch, total = found
    if total != debits:
        raise ConnectorError(f"GL reference {reference} is already batch {batch} with total {total}, "
                             f"not {debits}", permanent=True, code=REJECTED)
    return batch


def _loggable(values):
    """Record fields fit for the exchange log: buyer name, address and phone never leave the file."""
    return {key: value for key, value in values.items()
            if not key.startswith("Ship") or key in ("ShipViaID", "ShipSiteID", "ShipCountry")}


def _parse_cursor(cursor):
    if not cursor:
        return None
    try:
        stamp, shipper = cursor.split("|", 1)
        return dt.datetime.fromisoformat(stamp), shipper
    except ValueError:
        raise ConnectorError(f"bad Dynamics SL dispatch cursor {cursor!r} (expected '<ISO time>|<ShipperID>')",
                             permanent=True) from None
