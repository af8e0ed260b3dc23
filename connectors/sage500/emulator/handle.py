"""The emulator's operator handle: seed a company, ship orders as the warehouse does, look inside.

Everything here is what a Sage user or the site's own processes would do; the hub's connector never
calls it. Quantities and keys are written with the same SQL the procedures use.
"""

import datetime as dt
import logging

import psycopg
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from connectors.sage500.amazon_ids import from_user_field, to_user_field
from connectors.sage500.options import IDENTIFIER
from connectors.sage500.procedures import next_surrogate_key

logger = logging.getLogger(__name__)

DEMO_SHIP_METHODS = {
    "RM24": "Royal Mail Tracked 24", "RM48": "Royal Mail Tracked 48", "DPDNEXT": "DPD Next Day",
    "EVRI48": "Evri 48", "PF24": "Parcelforce express24",
}
DEMO_GL_ACCOUNTS = {
    "1200": "Bank - Amazon deposits", "1250": "Amazon reserve", "2200": "VAT on sales",
    "2210": "Marketplace VAT withheld", "4000": "Amazon sales", "4010": "Shipping income",
    "4020": "Gift wrap income", "4050": "Amazon refunds", "4060": "FBA reimbursements",
    "4090": "Promotions and discounts", "5100": "Postage", "6100": "Amazon selling fees",
    "6110": "Amazon subscription fee", "6120": "FBA storage fees", "6200": "Amazon advertising",
    "6210": "Coupon and deal fees",
}
SALES_ORDER_OPEN, SALES_ORDER_CLOSED = 1, 4
AVAILABLE_BIN, HELD_BIN = "A1", "QC"


class Sage500Emulator:
    """One emulated Sage 500 company in an installed emulator schema."""

    def __init__(self, engine, company_id="SOA", warehouse_id="MAIN", customer_id="AMAZON",
                 amazon_id_field="UserFld1", line_ref_field="UserFld1", user_field_width=15):
        self.engine = engine
        self.company_id = company_id
        self.warehouse_id = warehouse_id
        self.customer_id = customer_id
        self.amazon_id_field = amazon_id_field
        self.line_ref_field = line_ref_field
        self.user_field_width = user_field_width

    def connection_options(self):
        """The options a hub connection to this company needs (the rest have defaults)."""
        with self.engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        return {"schema": schema, "company_id": self.company_id, "customer_id": self.customer_id,
                "warehouse_id": self.warehouse_id}

    def _run(self, sql, **params):
        with self.engine.begin() as conn:
            return conn.execute(text(sql), params)

    def _key(self, conn, table):
        return next_surrogate_key(conn, table)

    # ---- seeding -----------------------------------------------------------------------------

    def reset(self):
        """Empty every table of the emulator schema (tests)."""
        with self.engine.begin() as conn:
            tables = conn.execute(text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")).scalars().all()
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))

    def setup_company(self, name="Emulated Sage Ltd", currency="GBP"):
        """The company, its migration setup, the Amazon customer and a warehouse with an available
        bin (A1) and a quality-control bin excluded from availability (QC). Idempotent."""
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tsmCompany (CompanyID, CompanyName, CurrID) VALUES (:c, :name, :curr) "
                "ON CONFLICT (CompanyID) DO NOTHING"), {"c": self.company_id, "name": name, "curr": currency})
            conn.execute(text("INSERT INTO tsmCompanySetup (CompanyID, SetupStepKey) VALUES (:c, 1) "
                              "ON CONFLICT DO NOTHING"), {"c": self.company_id})
            self._insert_once(conn, "tarCustomer", "CustKey", {"CustID": self.customer_id},
                              {"CustName": "Amazon Marketplace"})
            whse = self._insert_once(conn, "timWarehouse", "WhseKey", {"WhseID": self.warehouse_id},
                                     {"Description": "Main warehouse"})
            for bin_id, excluded in ((AVAILABLE_BIN, 0), (HELD_BIN, 1)):
                self._bin_key(conn, whse, bin_id, excluded)

    def _warehouse_key(self, conn):
        return conn.execute(text("SELECT WhseKey FROM timWarehouse WHERE CompanyID = :c AND WhseID = :w"),
                            {"c": self.company_id, "w": self.warehouse_id}).scalar()

    def _bin_key(self, conn, whse, bin_id, excluded=0):
        key = conn.execute(text("SELECT WhseBinKey FROM timWhseBin WHERE WhseKey = :w AND WhseBinID = :b"),
                           {"w": whse, "b": bin_id}).scalar()
        if key is None:
            key = self._key(conn, "timWhseBin")
            conn.execute(text("INSERT INTO timWhseBin (WhseBinKey, WhseKey, WhseBinID, ExclFromAvail) "
                              "VALUES (:k, :w, :b, :x)"), {"k": key, "w": whse, "b": bin_id, "x": excluded})
        return key

    def _insert_once(self, conn, table, key_column, natural, values):
        """A row of this company identified by `natural` columns, inserted with a surrogate key and
        `values` unless it exists; returns its key. Names come from this module only."""
        where = " AND ".join(f"{column} = :{column}" for column in natural)
        params = {"CompanyID": self.company_id, **natural}
        key = conn.execute(text(f"SELECT {key_column} FROM {table} WHERE CompanyID = :CompanyID AND {where}"),
                           params).scalar()
        if key is None:
            key = self._key(conn, table)
            row = {key_column: key, **params, **values}
            conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"),
                         row)
        return key

    def add_ship_method(self, ship_method_id, description=""):
        with self.engine.begin() as conn:
            self._insert_once(conn, "tciShipMethod", "ShipMethKey", {"ShipMethID": ship_method_id},
                              {"ShipMethDesc": description})

    def add_gl_account(self, account_no, description=""):
        with self.engine.begin() as conn:
            self._insert_once(conn, "tglAccount", "GLAcctKey", {"GLAcctNo": account_no}, {"Description": description})

    def add_item(self, item_id, on_hand, *, description="", bin_id=AVAILABLE_BIN, status=1):
        """An item (created if new) with `on_hand` in one bin of the warehouse (set, not added)."""
        with self.engine.begin() as conn:
            item = self._insert_once(conn, "timItem", "ItemKey", {"ItemID": item_id}, {"Status": status})
            conn.execute(text("INSERT INTO timItemDescription (ItemKey, ShortDesc) VALUES (:k, :d) "
                              "ON CONFLICT DO NOTHING"), {"k": item, "d": (description or item_id)[:40]})
            whse = self._warehouse_key(conn)
            conn.execute(text("INSERT INTO timInventory (ItemKey, WhseKey) VALUES (:i, :w) ON CONFLICT DO NOTHING"),
                         {"i": item, "w": whse})
            conn.execute(text(
                "INSERT INTO timWhseBinInvt AS bi (ItemKey, WhseBinKey, QtyOnHand) VALUES (:i, :b, :q) "
                "ON CONFLICT (ItemKey, WhseBinKey) DO UPDATE SET QtyOnHand = EXCLUDED.QtyOnHand"),
                {"i": item, "b": self._bin_key(conn, whse, bin_id), "q": on_hand})

    def set_batch_size(self, rows):
        """How many staged headers each API procedure call processes (the vendor's MAX_ROWS_PER_RUN)."""
        self._run("INSERT INTO zEmulatorSetting (SettingName, SettingValue) VALUES ('MaxRowsPerRun', :n) "
                  "ON CONFLICT (SettingName) DO UPDATE SET SettingValue = EXCLUDED.SettingValue", n=str(rows))

    def clone_api_procedure(self, source, clone):
        """A renamed copy of an API procedure (sites clone them: `_TAC`, `_RKL`), same 11 parameters."""
        for name in (source, clone):
            if not IDENTIFIER.match(name):
                raise ValueError(f"not a procedure name: {name!r}")
        params = ("_oContinue, _iCancel, _iSessionKey, _iCompanyID, _iRptOption, _iPrintWarnings, _iUseStageTable, "
                  "_oRecsProcessed, _oFailedRecs, _oTotalRecs, _oRetVal")
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE OR REPLACE PROCEDURE {clone}(INOUT _oContinue int, _iCancel int, _iSessionKey int, "
                "_iCompanyID varchar, _iRptOption int, _iPrintWarnings int, _iUseStageTable int, "
                "INOUT _oRecsProcessed int, INOUT _oFailedRecs int, INOUT _oTotalRecs int, INOUT _oRetVal int) "
                f"LANGUAGE plpgsql AS $$ BEGIN CALL {source}({params}); END $$")

    def seed_demo(self):
        """The demo company: DEMO-001..DEMO-012 with stock, five UK ship methods, the GL accounts."""
        self.setup_company(name="Demo Trading Ltd")
        for method, description in DEMO_SHIP_METHODS.items():
            self.add_ship_method(method, description)
        for account, description in DEMO_GL_ACCOUNTS.items():
            self.add_gl_account(account, description)
        with self.engine.connect() as conn:
            existing = set(conn.execute(text("SELECT ItemID FROM timItem WHERE CompanyID = :c"),
                                        {"c": self.company_id}).scalars())
        for number in range(1, 13):
            item_id = f"DEMO-{number:03d}"
            if item_id not in existing:  # a re-run keeps the stock the demo has moved
                self.add_item(item_id, on_hand=10 * number + 5, description=f"Demo product {number}")

    # ---- the warehouse at work ---------------------------------------------------------------

    def reserve_key(self, table="tsoShipment"):
        """Take a surrogate key now for a row committed later (`ship(..., ship_key=)`): how Sage's keys
        reach the table out of order when one posting commits after another that started later."""
        with self.engine.begin() as conn:
            return self._key(conn, table)

    def ship(self, amazon_order_id, packages=None, ship_method=None, tracking_number=None, ship_key=None):
        """Ship an order: tsoShipment + tsoShipLine, packages with tracking, stock issued, lines updated.

        `packages` is a list of {"tracking_number": str, "lines": {line_ref: quantity}}; None ships
        everything still open in one package (tracked as `tracking_number`, or a made-up number).
        `ship_key`: a key from `reserve_key()`. Returns the shipment's TranID.
        """
        with self.engine.begin() as conn:
            order = conn.execute(text(
                "SELECT SOKey, DfltShipMethKey FROM tsoSalesOrder "
                f"WHERE CompanyID = :c AND {self.amazon_id_field} = :a "
                "FOR UPDATE"), {"c": self.company_id, "a": self._stored(amazon_order_id)}).first()
            if order is None:
                raise ValueError(f"no sales order for Amazon order {amazon_order_id} in company {self.company_id}")
            lines = {row.line_ref.strip(): row for row in conn.execute(text(
                f"SELECT sl.SOLineKey AS so_line_key, sl.ItemKey AS item_key, sl.{self.line_ref_field} AS line_ref, "
                "d.SOLineDistKey AS dist_key, d.QtyOpenToShip AS open_qty, d.WhseKey AS whse_key "
                "FROM tsoSOLine sl JOIN tsoSOLineDist d ON d.SOLineKey = sl.SOLineKey WHERE sl.SOKey = :so"),
                {"so": order.sokey})}
            if packages is None:
                packages = [{"tracking_number": tracking_number or f"TRK{dt.datetime.now():%H%M%S%f}",
                             "lines": {ref: int(row.open_qty) for ref, row in lines.items() if row.open_qty > 0}}]
            totals = {}
            for package in packages:
                for ref, qty in package["lines"].items():
                    if ref not in lines:
                        raise ValueError(f"order {amazon_order_id} has no line {ref!r}")
                    totals[ref] = totals.get(ref, 0) + qty
            if not totals:
                raise ValueError(f"order {amazon_order_id} has nothing open to ship")
            for ref, qty in totals.items():
                if qty <= 0 or qty > lines[ref].open_qty:
                    raise ValueError(f"line {ref!r}: cannot ship {qty}, {lines[ref].open_qty} open")
            ship_meth = order.dfltshipmethkey
            if ship_method:
                ship_meth = conn.execute(text("SELECT ShipMethKey FROM tciShipMethod WHERE CompanyID = :c "
                                              "AND ShipMethID = :m"), {"c": self.company_id, "m": ship_method}).scalar()
                if ship_meth is None:
                    raise ValueError(f"unknown ship method {ship_method!r}")
            ship_key = ship_key or self._key(conn, "tsoShipment")
            number = conn.execute(text("UPDATE tsmCompany SET NextShipTranNo = NextShipTranNo + 1 "
                                       "WHERE CompanyID = :c RETURNING NextShipTranNo - 1"),
                                  {"c": self.company_id}).scalar()
            tran_id = f"{number:010d}"
            conn.execute(text("INSERT INTO tsoShipment (ShipKey, CompanyID, TranID, TranDate, ShipMethKey) "
                              "VALUES (:k, :c, :t, current_date, :m)"),
                         {"k": ship_key, "c": self.company_id, "t": tran_id, "m": ship_meth})
            ship_lines = {}
            for ref, qty in totals.items():
                line = lines[ref]
                ship_lines[ref] = self._key(conn, "tsoShipLine")
                conn.execute(text("INSERT INTO tsoShipLine (ShipLineKey, ShipKey, SOLineKey, ItemKey, WhseKey, "
                                  "QtyShipped) VALUES (:k, :s, :l, :i, :w, :q)"),
                             {"k": ship_lines[ref], "s": ship_key, "l": line.so_line_key, "i": line.item_key,
                              "w": line.whse_key, "q": qty})
                conn.execute(text("UPDATE tsoSOLineDist SET QtyShip = QtyShip + :q, "
                                  "QtyOpenToShip = QtyOpenToShip - :q, "
                                  "Status = CASE WHEN QtyOpenToShip - :q <= 0 THEN 2 ELSE Status END "
                                  "WHERE SOLineDistKey = :d"), {"q": qty, "d": line.dist_key})
                conn.execute(text("SELECT zIssueStock(:i, :w, :q)"),
                             {"i": line.item_key, "w": line.whse_key, "q": qty})
            for pkg_no, package in enumerate(packages, 1):
                pkg_key = self._key(conn, "tsoShipPkg")
                conn.execute(text("INSERT INTO tsoShipPkg (ShipPkgKey, ShipKey, PkgNo, TrackingNo) "
                                  "VALUES (:k, :s, :n, :t)"),
                             {"k": pkg_key, "s": ship_key, "n": pkg_no, "t": package["tracking_number"]})
                for ref, qty in package["lines"].items():
                    conn.execute(text("INSERT INTO tsoShipPkgLine (ShipPkgKey, ShipLineKey, QtyShipped) "
                                      "VALUES (:p, :l, :q)"), {"p": pkg_key, "l": ship_lines[ref], "q": qty})
            conn.execute(text(
                "UPDATE tsoSalesOrder SET Status = :closed, UpdateDate = now() WHERE SOKey = :so AND NOT EXISTS ("
                " SELECT 1 FROM tsoSOLineDist d JOIN tsoSOLine sl ON sl.SOLineKey = d.SOLineKey"
                " WHERE sl.SOKey = :so AND d.QtyOpenToShip > 0)"), {"so": order.sokey, "closed": SALES_ORDER_CLOSED})
        logger.info("Sage 500 emulator shipped Amazon order %s as shipment %s", amazon_order_id, tran_id)
        return tran_id

    def waiting_orders(self):
        """Open orders not on hold as the floor sees them (the demo's auto-dispatch): Amazon order id, ship
        method, {line ref: quantity still to ship} and seconds since the order was created."""
        query = text(
            f"SELECT so.{self.amazon_id_field} AS amazon_id, sm.ShipMethID AS method, sm.ShipMethDesc AS description, "
            f"sl.{self.line_ref_field} AS line_ref, d.QtyOpenToShip AS open_qty, "
            "EXTRACT(EPOCH FROM localtimestamp - so.CreateDate) AS waited "
            "FROM tsoSalesOrder so JOIN tsoSOLine sl ON sl.SOKey = so.SOKey "
            "JOIN tsoSOLineDist d ON d.SOLineKey = sl.SOLineKey "
            "LEFT JOIN tciShipMethod sm ON sm.ShipMethKey = so.DfltShipMethKey "
            "WHERE so.CompanyID = :c AND so.Status = :open AND so.Hold = 0 AND d.QtyOpenToShip > 0 "
            "ORDER BY so.SOKey, sl.SOLineNo")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"c": self.company_id, "open": SALES_ORDER_OPEN}).all()
        orders = {}
        for row in rows:
            order_id = from_user_field(row.amazon_id)
            order = orders.setdefault(order_id, {
                "order_id": order_id, "ship_method": f"{row.method or ''} {row.description or ''}".strip(),
                "lines": {}, "waiting": float(row.waited)})
            order["lines"][row.line_ref.strip()] = int(row.open_qty)
        return list(orders.values())

    # ---- looking inside ----------------------------------------------------------------------

    def _stored(self, amazon_order_id):
        return to_user_field(amazon_order_id, self.user_field_width)

    def orders(self, amazon_order_id):
        """The tsoSalesOrder rows (as dicts) holding an Amazon order id."""
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(text(
                f"SELECT * FROM tsoSalesOrder WHERE CompanyID = :c AND {self.amazon_id_field} = :a ORDER BY SOKey"),
                {"c": self.company_id, "a": self._stored(amazon_order_id)}).mappings()]

    def stock(self, item_id):
        """(on hand in every bin, available: non-excluded bins less pending decreases) in the warehouse."""
        with self.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT COALESCE(SUM(bi.QtyOnHand), 0) AS on_hand, COALESCE(SUM(CASE WHEN b.ExclFromAvail = 0 "
                "THEN bi.QtyOnHand - bi.PendQtyDecrease ELSE 0 END), 0) AS available "
                "FROM timItem i JOIN timWhseBinInvt bi ON bi.ItemKey = i.ItemKey "
                "JOIN timWhseBin b ON b.WhseBinKey = bi.WhseBinKey JOIN timWarehouse w ON w.WhseKey = b.WhseKey "
                "WHERE i.CompanyID = :c AND i.ItemID = :i AND w.WhseID = :w"),
                {"c": self.company_id, "i": item_id, "w": self.warehouse_id}).one()
        return int(row.on_hand), int(row.available)

    def order_count(self, amazon_order_id):
        return len(self.orders(amazon_order_id))

    def gl_batches(self, reference):
        """BatchIDs of the GL batches imported for a journal reference."""
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT BatchID FROM tciBatchLog WHERE CompanyID = :c AND BatchCmnt = :r"),
                                {"c": self.company_id, "r": reference}).scalars().all()

    @staticmethod
    def lose_reply_after_next_import(connector_engine, procedure="spSOapiSalesOrdIns"):
        """Test hook on the connector's transport: the next import through `procedure` commits in
        Sage, then the connector's following statement times out as if the reply was lost."""
        state = {"armed": False, "spent": False}

        def after(conn, cursor, statement, parameters, context, executemany):
            if not state["spent"] and procedure.lower() in statement.lower():
                state["armed"] = True

        def before(conn, cursor, statement, parameters, context, executemany):
            if state["armed"] and not state["spent"] and procedure.lower() not in statement.lower():
                state["spent"] = True
                # What SQLAlchemy raises when the driver reports a statement timeout.
                timeout = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
                raise OperationalError(statement, parameters, timeout)

        event.listen(connector_engine, "after_cursor_execute", after)
        event.listen(connector_engine, "before_cursor_execute", before)
