"""The SQL the Dynamics SL connector runs, built with SQLAlchemy Core so it renders for SQL Server and Postgres.

Each function takes an open SQLAlchemy connection and the parsed options and returns plain values
(trimmed text, Decimal money, whole quantities, None for the 1900 date). Every read is scoped to the
connection's `CpnyID`, except Inventory and Customer, which SL shares between the companies of a database.
"""

import datetime as dt

from sqlalchemy import and_, case, exists, func, or_, select

from connectors.base import Dispatch, DispatchLine, DispatchPackage, Item, ShipMethod, StockRecord
from connectors.dynamics_sl.tables import (
    Batch,
    GLTran,
    Inventory,
    ItemSite,
    ShipVia,
    SOHeader,
    SOLine,
    SOShipHeader,
    SOShipLine,
)
from connectors.sql import NULL_DATE, money, quantity, sql_date, trim
from integration_hub.core.iterables import chunked

# SQL Server accepts at most 2100 parameters in one statement.
IN_CHUNK = 1000


def _shipped(opts):
    """Shippers of an order that have left: confirmed, with an actual ship date, not cancelled."""
    return and_(
        SOShipHeader.c.CpnyID == opts.company_id, SOShipHeader.c.OrdNbr == SOHeader.c.OrdNbr,
        SOShipHeader.c.ShippingConfirmed == 1, SOShipHeader.c.Cancelled == 0,
        SOShipHeader.c.ShipDateAct > NULL_DATE,
    )


def order_status(conn, opts, amazon_order_id):
    """(OrdNbr, Status, cancelled, dispatched) of the SL order for an Amazon order id, or None.

    Should SL hold more than one (keyed twice by hand), the live one wins over a cancelled one.
    """
    shipped = case((exists(select(SOShipHeader.c.ShipperID).where(_shipped(opts))), 1), else_=0)
    row = conn.execute(
        select(SOHeader.c.OrdNbr, SOHeader.c.Status, SOHeader.c.Cancelled, shipped.label("shipped"))
        .where(SOHeader.c.CpnyID == opts.company_id, SOHeader.c.CustOrdNbr == amazon_order_id)
        .order_by(SOHeader.c.Cancelled, SOHeader.c.OrdNbr.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return trim(row.OrdNbr), trim(row.Status), bool(row.Cancelled), bool(row.shipped)


def order_count(conn, opts, amazon_order_id):
    return conn.scalar(select(func.count()).select_from(SOHeader).where(
        SOHeader.c.CpnyID == opts.company_id, SOHeader.c.CustOrdNbr == amazon_order_id))


def journal_batch(conn, opts, reference):
    """(BatNbr, debit total as Decimal) of the GL batch carrying `reference` in GLTran.ExtRefNbr, or None."""
    tagged = select(GLTran.c.BatNbr).where(
        GLTran.c.Module == Batch.c.Module, GLTran.c.BatNbr == Batch.c.BatNbr,
        GLTran.c.CpnyID == opts.company_id, GLTran.c.ExtRefNbr == reference,
    )
    row = conn.execute(
        select(Batch.c.BatNbr, Batch.c.DrTot)
        .where(Batch.c.Module == "GL", Batch.c.CpnyID == opts.company_id, exists(tagged))
        .order_by(Batch.c.BatNbr).limit(1)
    ).first()
    return None if row is None else (trim(row.BatNbr), money(row.DrTot))


def database_now(conn):
    """The database server's clock as a naive local time, the way SL stamps LUpd_DateTime."""
    now = conn.scalar(select(func.current_timestamp()))
    return now.replace(tzinfo=None)


def dispatch_rows(conn, opts, after, cutoff):
    """Confirmed shippers of Amazon orders changed after the cursor `after` (LUpd_DateTime, ShipperID)
    and before `cutoff`.

    Only orders booked to the Amazon customer: the company's web-shop and B2B shipments are not the
    hub's, and listing them would flood it with unmatched dispatches.
    """
    header = SOShipHeader.c
    condition = [header.LUpd_DateTime <= cutoff]
    if after:
        stamp, shipper = after
        # Row-value comparison spelled out: SQL Server has no (a, b) > (x, y).
        condition.append(or_(header.LUpd_DateTime > stamp,
                             and_(header.LUpd_DateTime == stamp, header.ShipperID > shipper)))
    return _shipper_rows(conn, opts, condition, limit=opts.dispatch_page_size)


def order_dispatch_rows(conn, opts, amazon_order_id):
    """Every confirmed shipper of one Amazon order (its CustOrdNbr), read fresh."""
    return _shipper_rows(conn, opts, [SOHeader.c.CustOrdNbr == amazon_order_id])


def _shipper_rows(conn, opts, condition, limit=None):
    header = SOShipHeader.c
    statement = (
        select(header.ShipperID, header.OrdNbr, header.ShipViaID, header.TrackingNbr, header.ShipDateAct,
               header.LUpd_DateTime, SOHeader.c.CustOrdNbr, ShipVia.c.Descr)
        .join(SOHeader, and_(SOHeader.c.CpnyID == header.CpnyID, SOHeader.c.OrdNbr == header.OrdNbr))
        .outerjoin(ShipVia, and_(ShipVia.c.CpnyID == header.CpnyID, ShipVia.c.ShipViaID == header.ShipViaID))
        .where(header.CpnyID == opts.company_id, header.ShippingConfirmed == 1, header.Cancelled == 0,
               header.ShipDateAct > NULL_DATE, SOHeader.c.CustID == opts.customer_id, *condition)
        .order_by(header.LUpd_DateTime, header.ShipperID)
    )
    return conn.execute(statement if limit is None else statement.limit(limit)).all()


def dispatch_lines(conn, opts, shipper_ids):
    """{ShipperID: [DispatchLine]}; the Amazon line ref comes from the order line's user field."""
    ship, order = SOShipLine.c, SOLine.c
    line_ref = order[opts.line_ref_field]
    by_shipper = {}
    for chunk in chunked(shipper_ids, IN_CHUNK):
        rows = conn.execute(
            select(ship.ShipperID, ship.OrdLineRef, ship.InvtID, ship.QtyShip, line_ref.label("amazon_ref"))
            .outerjoin(SOLine, and_(order.CpnyID == ship.CpnyID, order.OrdNbr == ship.OrdNbr,
                                    order.LineRef == ship.OrdLineRef))
            .where(ship.CpnyID == opts.company_id, ship.ShipperID.in_(chunk), ship.QtyShip > 0)
            .order_by(ship.ShipperID, ship.LineRef)
        )
        for row in rows:
            by_shipper.setdefault(trim(row.ShipperID), []).append(DispatchLine(
                line_ref=trim(row.amazon_ref) or trim(row.OrdLineRef),
                item_code=trim(row.InvtID), quantity=quantity(row.QtyShip),
            ))
    return by_shipper


def group_dispatches(rows, lines, tz):
    """One Dispatch per order in the page; each shipper is a package (SL keeps one TrackingNbr per shipper)."""
    dispatches = {}
    for row in rows:
        shipper, order_nbr = trim(row.ShipperID), trim(row.OrdNbr)
        package = DispatchPackage(package_ref=shipper, tracking_number=trim(row.TrackingNbr),
                                  lines=lines.get(shipper, []))
        dispatch = dispatches.get(order_nbr)
        if dispatch is None:
            dispatches[order_nbr] = Dispatch(
                dispatch_ref=shipper, amazon_order_id=trim(row.CustOrdNbr), back_office_ref=order_nbr,
                carrier=trim(row.Descr) or trim(row.ShipViaID), ship_method=trim(row.ShipViaID),
                shipped_at=shipped_at(row.ShipDateAct, row.LUpd_DateTime, tz), packages=[package],
            )
        else:
            dispatch.dispatch_ref += f"+{shipper}"
            dispatch.packages.append(package)
    return list(dispatches.values())


def shipped_at(ship_date, updated, tz):
    """SL keeps the ship date without a time: take the confirmation time when it is that same day,
    so the dispatch never looks older than an order placed that morning."""
    moment = sql_date(ship_date)
    if moment.time() == dt.time(0) and updated and updated.date() == moment.date():
        moment = updated
    return moment.replace(tzinfo=tz)


def stock(conn, opts, item_codes, measured_at):
    site = ItemSite.c
    condition = [site.CpnyID == opts.company_id]
    if opts.stock_sites:
        condition.append(site.SiteID.in_(opts.stock_sites))
    chunks = [None] if item_codes is None else list(chunked(item_codes, IN_CHUNK))
    records = []
    for chunk in chunks:
        where = condition if chunk is None else [*condition, site.InvtID.in_(chunk)]
        rows = conn.execute(select(site.InvtID, site.SiteID, site.QtyOnHand, site.QtyAlloc, site.QtyAvail)
                            .where(*where).order_by(site.InvtID, site.SiteID))
        records += [StockRecord(item_code=trim(row.InvtID), warehouse=trim(row.SiteID),
                                on_hand=quantity(row.QtyOnHand), allocated=quantity(row.QtyAlloc),
                                available=quantity(row.QtyAvail), measured_at=measured_at) for row in rows]
    return records


def items(conn, opts):
    rows = conn.execute(select(Inventory.c.InvtID, Inventory.c.Descr, Inventory.c.TranStatusCode)
                        .order_by(Inventory.c.InvtID))
    return [Item(item_code=trim(row.InvtID), description=trim(row.Descr),
                 active=trim(row.TranStatusCode) not in opts.inactive_status_codes) for row in rows]


def ship_methods(conn, opts):
    rows = conn.execute(select(ShipVia.c.ShipViaID, ShipVia.c.Descr)
                        .where(ShipVia.c.CpnyID == opts.company_id).order_by(ShipVia.c.ShipViaID))
    return [ShipMethod(code=trim(row.ShipViaID), description=trim(row.Descr)) for row in rows]


def order_totals(conn, opts):
    """Number of orders of the company, for the connection test."""
    return conn.scalar(select(func.count()).select_from(SOHeader).where(SOHeader.c.CpnyID == opts.company_id))
