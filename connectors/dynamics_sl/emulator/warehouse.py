"""What people do in SL itself, for tests and the demo: set up items and ship methods, ship orders."""

import datetime as dt

from sqlalchemy import extract, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert

from connectors.dynamics_sl import queries
from connectors.dynamics_sl.emulator.imports import CREATED, STAMP, lock_sites, next_number
from connectors.dynamics_sl.tables import (
    Account,
    Customer,
    GLTran,
    Inventory,
    ItemSite,
    ShipVia,
    SOHeader,
    SOLine,
    SOShipHeader,
    SOShipLine,
    for_schema,
    width,
)

DEMO_SHIP_VIAS = {
    "RM24": "Royal Mail Tracked 24",
    "RM48": "Royal Mail Tracked 48",
    "DPDNEXT": "DPD Next Day",
    "EVRI48": "Evri 48",
    "PF24": "Parcelforce express24",
}
DEMO_ACCOUNTS = {"1200": ("Amazon receivable", "AA"), "4000": ("Amazon sales", "RI"),
                 "6100": ("Amazon fees", "EE"), "2200": ("VAT", "LL")}


class SLEmulator:
    """A handle on the emulated SL database of one company."""

    def __init__(self, engine, *, company_id="0060", schema="dynamics_sl", site_id="MAIN",
                 customer_id="AMAZON", line_ref_field="User1"):
        self.engine = for_schema(engine, schema)
        self.company_id, self.site_id, self.customer_id = company_id, site_id, customer_id
        self.line_ref_field = line_ref_field

    # ---- set-up ----------------------------------------------------------------------------

    def add_customer(self, cust_id=None, name="Amazon marketplace buyers"):
        self._put(Customer, {"CustId": cust_id or self.customer_id}, {"Name": name, "Status": "A", "CuryId": "GBP"})

    def add_ship_via(self, ship_via_id, description=""):
        self._put(ShipVia, {"CpnyID": self.company_id, "ShipViaID": ship_via_id}, {"Descr": description})

    def add_account(self, account, description="", account_type="EE"):
        self._put(Account, {"Acct": account}, {"Descr": description, "AcctType": account_type, "Active": 1})

    def add_item(self, item_code, on_hand, *, site_id=None, description="", replace=True):
        """An Inventory row and its ItemSite with `on_hand` in stock; available = on hand - allocated."""
        site = site_id or self.site_id
        self._put(Inventory, {"InvtID": item_code},
                  {"Descr": description or item_code, "StkUnit": "EA", "DfltSite": site, "TranStatusCode": "AC",
                   "StkItem": 1}, replace=replace)
        key = {"InvtID": item_code, "SiteID": site}
        self._put(ItemSite, key, {"CpnyID": self.company_id, "QtyOnHand": float(on_hand),
                                  "QtyAvail": float(on_hand)}, replace=False)
        if replace:
            with self.engine.begin() as conn:
                conn.execute(update(ItemSite).where(*(ItemSite.c[k] == v for k, v in key.items())).values(
                    CpnyID=self.company_id, QtyOnHand=float(on_hand),
                    QtyAvail=float(on_hand) - ItemSite.c.QtyAlloc, **STAMP))

    def seed_demo(self):
        """The demo company: a customer, five UK ship methods, accounts and DEMO-001..012 in stock.
        Safe to run again: rows that exist (and their stock) are left as they are."""
        self._put(Customer, {"CustId": self.customer_id}, {"Name": "Amazon marketplace buyers", "Status": "A"},
                  replace=False)
        for code, description in DEMO_SHIP_VIAS.items():
            self._put(ShipVia, {"CpnyID": self.company_id, "ShipViaID": code}, {"Descr": description},
                      replace=False)
        for account, (description, kind) in DEMO_ACCOUNTS.items():
            self._put(Account, {"Acct": account}, {"Descr": description, "AcctType": kind, "Active": 1},
                      replace=False)
        for number in range(1, 13):
            self.add_item(f"DEMO-{number:03d}", on_hand=10 * number, description=f"Demo product {number}",
                          replace=False)

    def _put(self, table, key, values, replace=True):
        """Insert a row, or on its key update it (replace) or leave it (not replace)."""
        statement = upsert(table).values(**key, **values, **CREATED)
        if replace:
            statement = statement.on_conflict_do_update(index_elements=list(key), set_={**values, **STAMP})
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(key))
        with self.engine.begin() as conn:
            conn.execute(statement)

    # ---- the warehouse ships ---------------------------------------------------------------

    def ship(self, amazon_order_id, packages, *, ship_via=None, shipped_on=None):
        """Ship an order: one confirmed shipper per package (SL keeps one TrackingNbr per shipper).

        `packages` is a list of {"tracking_number": str, "lines": {Amazon line ref: quantity}};
        lines None ships whatever is still open. Moves stock (QtyOnHand and QtyAlloc down) and
        closes the order once nothing is left open. Returns the ShipperIDs.
        """
        shipped_on = dt.datetime.combine(shipped_on or dt.date.today(), dt.time(0))
        with self.engine.begin() as conn:
            order = conn.execute(select(SOHeader).where(
                SOHeader.c.CpnyID == self.company_id, SOHeader.c.CustOrdNbr == amazon_order_id,
                SOHeader.c.Cancelled == 0)).first()
            if order is None:
                raise ValueError(f"no open SL order for Amazon order {amazon_order_id} in company {self.company_id}")
            lines = {getattr(line, self.line_ref_field).strip(): line for line in conn.execute(select(SOLine).where(
                SOLine.c.CpnyID == order.CpnyID, SOLine.c.OrdNbr == order.OrdNbr))}
            open_qty = {ref: line.QtyOpenShip for ref, line in lines.items()}
            lock_sites(conn, [(line.CpnyID, line.InvtID, line.SiteID) for line in lines.values()])
            shippers = [self._shipper(conn, order, package, lines, open_qty, ship_via, shipped_on)
                        for package in packages]
            left = sum(open_qty.values())
            conn.execute(update(SOHeader).where(SOHeader.c.CpnyID == order.CpnyID,
                                                SOHeader.c.OrdNbr == order.OrdNbr)
                         .values(Status="O" if left > 0 else "C", **STAMP))
        return shippers

    def _shipper(self, conn, order, package, lines, open_qty, ship_via, shipped_on):
        tracking = package["tracking_number"]
        if len(tracking) > width(SOShipHeader, "TrackingNbr"):
            raise ValueError(f"tracking number {tracking!r} does not fit SOShipHeader.TrackingNbr")
        wanted = package.get("lines") or {ref: qty for ref, qty in open_qty.items() if qty > 0}
        shipper_id = next_number(conn, SOShipHeader.c.ShipperID, SOShipHeader.c.CpnyID == order.CpnyID)
        conn.execute(insert(SOShipHeader).values(
            CpnyID=order.CpnyID, ShipperID=shipper_id, OrdNbr=order.OrdNbr, CustID=order.CustID,
            ShipViaID=ship_via or order.ShipViaID, TrackingNbr=tracking, ShipDateAct=shipped_on,
            ShipDatePlan=shipped_on, ShippingConfirmed=1, SiteID=order.ShipSiteID, Status="C", TotBoxes=1,
            **CREATED,
        ))
        for number, (ref, quantity) in enumerate(wanted.items(), start=1):
            line = lines.get(ref)
            if line is None or quantity > open_qty[ref]:
                raise ValueError(f"order {order.CustOrdNbr.strip()} has no open quantity {quantity} for line {ref}")
            open_qty[ref] -= quantity
            conn.execute(insert(SOShipLine).values(
                CpnyID=order.CpnyID, ShipperID=shipper_id, LineRef=f"{number:05d}", OrdNbr=order.OrdNbr,
                OrdLineRef=line.LineRef, InvtID=line.InvtID, SiteID=line.SiteID, QtyOrd=line.QtyOrd,
                QtyShip=float(quantity), SlsPrice=line.SlsPrice, **CREATED,
            ))
            conn.execute(update(SOLine).where(
                SOLine.c.CpnyID == line.CpnyID, SOLine.c.OrdNbr == line.OrdNbr, SOLine.c.LineRef == line.LineRef,
            ).values(QtyShip=SOLine.c.QtyShip + quantity, QtyOpenShip=SOLine.c.QtyOpenShip - quantity, **STAMP))
            conn.execute(update(ItemSite).where(
                ItemSite.c.CpnyID == line.CpnyID, ItemSite.c.InvtID == line.InvtID, ItemSite.c.SiteID == line.SiteID,
            ).values(QtyOnHand=ItemSite.c.QtyOnHand - quantity, QtyAlloc=ItemSite.c.QtyAlloc - quantity,
                     QtyCustOrd=ItemSite.c.QtyCustOrd - quantity, **STAMP))
        return shipper_id.strip()

    def set_tracking(self, shipper_id, tracking_number):
        """The carrier's number arrives after the shipper was confirmed (keyed in later, or a label
        printed after dispatch): TrackingNbr is filled in and the shipper stamped as updated."""
        with self.engine.begin() as conn:
            changed = conn.execute(update(SOShipHeader).where(
                SOShipHeader.c.CpnyID == self.company_id, SOShipHeader.c.ShipperID == shipper_id,
            ).values(TrackingNbr=tracking_number, **STAMP)).rowcount
        if not changed:
            raise ValueError(f"no shipper {shipper_id} in company {self.company_id}")

    # ---- inspection ------------------------------------------------------------------------

    def open_lines(self, amazon_order_id):
        """{Amazon line ref: quantity still to ship} of the order's open lines."""
        ref = SOLine.c[self.line_ref_field]
        with self.engine.connect() as conn:
            rows = conn.execute(select(ref, SOLine.c.QtyOpenShip).join(SOHeader, (SOHeader.c.CpnyID == SOLine.c.CpnyID)
                                & (SOHeader.c.OrdNbr == SOLine.c.OrdNbr)).where(
                SOHeader.c.CpnyID == self.company_id, SOHeader.c.CustOrdNbr == amazon_order_id,
                SOHeader.c.Cancelled == 0, SOLine.c.QtyOpenShip > 0).order_by(SOLine.c.LineRef))
            return {row[0].strip(): int(row[1]) for row in rows}

    def waiting_orders(self):
        """Open orders as the floor sees them (the demo's auto-dispatch): Amazon order id, ship via,
        {Amazon line ref: quantity still to ship} and seconds since the order was imported."""
        ref = SOLine.c[self.line_ref_field]
        waited = extract("epoch", func.localtimestamp() - SOHeader.c.Crtd_DateTime)
        query = (
            select(SOHeader.c.CustOrdNbr, SOHeader.c.ShipViaID, ShipVia.c.Descr, ref, SOLine.c.QtyOpenShip, waited)
            .select_from(SOHeader.join(SOLine, (SOLine.c.CpnyID == SOHeader.c.CpnyID)
                                       & (SOLine.c.OrdNbr == SOHeader.c.OrdNbr))
                         .outerjoin(ShipVia, (ShipVia.c.CpnyID == SOHeader.c.CpnyID)
                                    & (ShipVia.c.ShipViaID == SOHeader.c.ShipViaID)))
            .where(SOHeader.c.CpnyID == self.company_id, SOHeader.c.Status == "O", SOHeader.c.Cancelled == 0,
                   SOLine.c.QtyOpenShip > 0)
            .order_by(SOHeader.c.OrdNbr, SOLine.c.LineRef)
        )
        orders = {}
        with self.engine.connect() as conn:
            for order_id, ship_via, description, line_ref, open_qty, seconds in conn.execute(query):
                order = orders.setdefault(order_id.strip(), {
                    "order_id": order_id.strip(), "ship_method": f"{ship_via.strip()} {(description or '').strip()}",
                    "lines": {}, "waiting": float(seconds)})
                order["lines"][line_ref.strip()] = int(open_qty)
        return list(orders.values())

    def order_count(self, amazon_order_id):
        with self.engine.connect() as conn:
            return queries.order_count(conn, self, amazon_order_id)  # reads only self.company_id

    def gl_batches(self, reference):
        """The GL BatNbrs whose transactions carry `reference` (GLTran.ExtRefNbr)."""
        with self.engine.connect() as conn:
            return [row.strip() for row in conn.scalars(select(GLTran.c.BatNbr).distinct().where(
                GLTran.c.CpnyID == self.company_id, GLTran.c.ExtRefNbr == reference))]

    def table_count(self, table):
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))
