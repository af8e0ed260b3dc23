"""Sage 500 ERP: writes through the Data Migration staging tables and API procedures, reads by SQL.

The connection's `endpoint` is a SQLAlchemy URL (SQL Server in production, e.g.
`mssql+pyodbc://sage-sql/mas500_app?driver=ODBC+Driver+18+for+SQL+Server`; Postgres for the
emulator, with the `schema` option), `username`/`secret` the SQL login (put into the URL by
connectors.sql, never logged).

Options (`BackOfficeConnection.options`; [I] = inferred, confirm with the site):

    company_id                required  CompanyID that scopes every read and write
    customer_id               required  CustID the Amazon orders are booked to
    warehouse_id              required  WhseID orders ship from and stock is read for
    schema                    ""        Postgres schema of the tables (the emulator's "sage500");
                                        on SQL Server leave empty: the login's default schema is used
    user_id                   "hub"     tsmMigrateSession.UserID
    setup_step_key            1         tsmMigrateSession.SetupStepKey [I]
    order_procedure           "spSOapiSalesOrdIns"       sales-order API procedure (sites clone it)
    order_staging_table       "StgSalesOrder"
    order_line_staging_table  "StgSOLine"
    gl_procedure              "spglapiGLTransactionIns"  GL journal API procedure [I]
    gl_staging_table          "StgGLTransaction"         GL journal staging table [I]
    amazon_id_field           "UserFld1"  order user field holding the Amazon order id (compacted when
                                          it is wider than user_field_width, see amazon_ids)
    line_ref_field            "UserFld1"  line user field holding the Amazon order item id [I]
    user_field_width          15          width of those user fields
    cancel_mode               "api"       "api": stage an update to status Canceled through the order
                                          procedure [I]; "refuse": cancelling is a permanent error
                                          (cancel in Sage by hand)
    tracking_query            SQL with :ship_key and :company_id returning ship_line_key,
                              tracking_number, quantity (NULL = the whole line) [I]; the default reads
                              the emulator's tsoShipPkg/tsoShipPkgLine
    gl_batch_query            SQL with :company_id and :reference returning the BatchID of the
                              journal's batch [I]; the default reads tciBatchLog.BatchCmnt
    timezone                  "Europe/London"  the Sage server's local time zone
    page_size                 100         shipments per list_dispatches page
    key_gap_seconds           900         how long a ShipKey missing below the cursor is looked for again

The back-office reference is the order's TranNo; the hub keeps it on its order (the cross-reference).
"""

import dataclasses
import logging
import time

from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    IntegrityError,
    NoSuchModuleError,
    ProgrammingError,
    SQLAlchemyError,
)

from connectors.base import BackOffice, ConnectorError, NotInBackOffice
from connectors.choices import System
from connectors.sage500 import migration, reads
from connectors.sage500.options import Options
from connectors.sage500.procedures import use_schema
from connectors.sql import engine_for
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)

READ_ATTEMPTS = 3  # quick tries of a read; writes are retried by the work item's schedule
RETRY_PAUSE = 0.5
MAX_PROCEDURE_CALLS = 1000  # a procedure that keeps setting @_oContinue = 1 is stopped here
# Codes of errors where Sage answered (so the connection is healthy) but refused the data.
ANSWERED = {"rejected", "not_found"}


def response_summary(result):
    """What an exchange row keeps of a call's result: lists as row counts."""
    if isinstance(result, list):
        return {"rows": len(result)}
    if dataclasses.is_dataclass(result):
        result = dataclasses.asdict(result)
    if isinstance(result, dict):
        return {str(key): response_summary(value) for key, value in result.items()}
    return result


def database_error(operation, exc):
    """A ConnectorError for a SQLAlchemy error: configuration and data errors are permanent."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = detail[0] if detail else type(exc).__name__
    permanent = isinstance(exc, (ProgrammingError, IntegrityError, DataError, ArgumentError, NoSuchModuleError))
    return ConnectorError(f"Sage 500 {operation} failed: {text}", permanent=permanent, code="sql")


def all_or_none(found):
    """`found` if every value was found, else None."""
    return found if all(found.values()) else None


class Sage500BackOffice(BackOffice):
    """Sage 500 through its staging tables and API procedures (writes) and SQL (reads)."""

    def __init__(self, connection):
        super().__init__(connection)
        self.options = Options.of(connection)

    # ---- plumbing ----------------------------------------------------------------------------

    def _call(self, operation, correlation_id, work, *, request=None, attempts=1):
        """Run `work(conn)` in one back-office transaction, one exchange row per attempt."""
        for attempt in range(1, attempts + 1):
            try:
                with record(System.SAGE500, operation, connection=self.connection, correlation_id=correlation_id,
                            request=request, attempt=attempt) as call:
                    try:
                        engine = engine_for(self.connection)
                        with engine.begin() as conn:
                            use_schema(conn, self.options.schema)
                            result = work(conn)
                    except SQLAlchemyError as exc:
                        raise database_error(operation, exc) from exc
                    except ImportError as exc:  # e.g. mssql+pyodbc without pyodbc installed
                        raise ConnectorError(f"Sage 500 {operation} failed: database driver missing ({exc})",
                                             permanent=True, code="sql") from exc
                    call.done(response=response_summary(result))
            except ConnectorError as exc:
                if exc.code in ANSWERED:
                    self.connection.record_success()
                    raise
                self.connection.record_failure(exc)
                if exc.permanent or attempt == attempts:
                    logger.warning("%s (connection %s)", exc.message, self.connection.name)
                    raise
                time.sleep(RETRY_PAUSE * attempt)
            else:
                self.connection.record_success()
                return result

    def _read(self, operation, correlation_id, work):
        return self._call(operation, correlation_id, work, attempts=READ_ATTEMPTS)

    def _import(self, what, correlation_id, procedure, rows, find):
        """Stage `rows` ({table: rows}, the first table the one the procedure reports on) under a new
        session, call `procedure` while it asks to continue, check the outcome, return `find(conn)`."""
        options = self.options
        staging_table = next(iter(rows))

        def open_and_stage(conn):
            session = migration.open_session(conn, options)
            migration.stage(conn, session, rows)
            return session

        session = self._call("stage", correlation_id, open_and_stage,
                             request={"company_id": options.company_id, "what": what,
                                      **{table: len(table_rows) for table, table_rows in rows.items()}})
        outputs = migration.ProcedureOutputs(more=True, processed=0, failed=0, total=0, ret_val=0)
        calls = 0
        while outputs.more:
            calls += 1
            if calls > MAX_PROCEDURE_CALLS:
                raise ConnectorError(f"Sage 500 {procedure} did not finish session {session}", permanent=False)
            outputs = self._call(procedure, correlation_id,
                                 lambda conn: migration.run_api_procedure(conn, procedure, options, session),
                                 request={"session": session, "company_id": options.company_id, "call": calls})
            if outputs.ret_val != migration.RET_SUCCESS:
                break

        def check(conn):
            outcome = migration.read_outcome(conn, staging_table, session)
            migration.check_outcome(what, procedure, outputs, outcome)
            found = find(conn)
            if found is None:
                raise ConnectorError(f"Sage 500 processed {what} but it cannot be found", permanent=False)
            return found

        return self._call(f"{procedure} outcome", correlation_id, check, request={"session": session})

    # ---- BackOffice --------------------------------------------------------------------------

    def test_connection(self):
        options = self.options
        procedures = [options.order_procedure, options.gl_procedure]

        def probe(conn):
            name = reads.company_name(conn, options)
            if name is None:
                raise ConnectorError(f"Sage 500 has no company {options.company_id!r}", permanent=True)
            missing = reads.missing_procedures(conn, procedures)
            if missing:
                raise ConnectorError(f"Sage 500 database lacks the procedure(s) {', '.join(missing)}",
                                     permanent=True)
            return f"Sage 500 company {options.company_id} ({name}); procedures {', '.join(procedures)} present"

        return self._read("test_connection", options.company_id, probe)

    def create_sales_order(self, order):
        order_id = order.amazon_order_id
        existing = self._read("find sales order", order_id, lambda conn: reads.find_order(conn, self.options, order_id))
        if existing:
            logger.info("Sage 500 already holds Amazon order %s as %s", order_id, existing.tran_no)
            return existing.tran_no
        return self._import_orders([order])[order_id].tran_no

    def _import_orders(self, orders):
        """Stage several orders under one session and import them; {amazon order id: SageOrder}."""
        options = self.options
        ids = [order.amazon_order_id for order in orders]
        created = self._import(
            f"sales order {', '.join(ids)}", ids[0], options.order_procedure,
            migration.sales_order_rows(options, orders),
            find=lambda conn: all_or_none({i: reads.find_order(conn, options, i) for i in ids}),
        )
        logger.info("Sage 500 created %s", ", ".join(f"{i} as {o.tran_no}" for i, o in created.items()))
        return created

    def cancel_sales_order(self, amazon_order_id):
        options = self.options
        existing = self._read("find sales order", amazon_order_id,
                              lambda conn: reads.find_order(conn, options, amazon_order_id))
        if existing is None:
            raise NotInBackOffice(f"Sage 500 has no sales order for Amazon order {amazon_order_id}")
        if existing.status == reads.CANCELED:
            return
        if options.cancel_mode == "refuse":
            raise ConnectorError(f"Cancel Sage 500 order {existing.tran_no} (Amazon {amazon_order_id}) by hand: "
                                 "this connection's cancel_mode is 'refuse'", permanent=True, code="rejected")

        def cancelled(conn):
            order = reads.find_order(conn, options, amazon_order_id)
            return order if order and order.status == reads.CANCELED else None

        self._import(f"cancellation of sales order {existing.tran_no}", amazon_order_id, options.order_procedure,
                     migration.cancellation_rows(options, existing.tran_no), find=cancelled)

    def get_sales_order_status(self, amazon_order_id):
        order = self._read("find sales order", amazon_order_id,
                           lambda conn: reads.find_order(conn, self.options, amazon_order_id))
        return order.as_status(amazon_order_id) if order else None

    def list_dispatches(self, cursor=""):
        try:
            reads.parse_dispatch_cursor(cursor)
        except ValueError as exc:
            raise ConnectorError(str(exc), permanent=True) from None
        return self._read("list dispatches", cursor.partition(";")[0] or "0",
                          lambda conn: reads.list_dispatches(conn, self.options, cursor, time.time()))

    def dispatches_for_order(self, amazon_order_id):
        return self._read("dispatches of order", amazon_order_id,
                          lambda conn: reads.dispatches_of_order(conn, self.options, amazon_order_id))

    def get_stock(self, item_codes=None):
        codes = None if item_codes is None else list(item_codes)
        if codes == []:
            return []
        return self._read("get stock", ",".join(codes or [])[:200],
                          lambda conn: reads.get_stock(conn, self.options, codes))

    def list_items(self):
        return self._read("list items", self.options.company_id, lambda conn: reads.list_items(conn, self.options))

    def list_ship_methods(self):
        return self._read("list ship methods", self.options.company_id,
                          lambda conn: reads.list_ship_methods(conn, self.options))

    def post_journal(self, journal):
        options = self.options
        reference = journal.reference
        existing = self._read("find GL batch", reference, lambda conn: reads.find_batch(conn, options, reference))
        if existing:
            logger.info("Sage 500 already holds journal %s as batch %s", reference, existing)
            return existing
        return self._import(f"journal {reference}", reference, options.gl_procedure,
                            migration.journal_rows(options, journal),
                            find=lambda conn: reads.find_batch(conn, options, reference))
