"""What the emulated Transaction Import does with the records of one data file.

Each importer checks every record first and returns its errors as (data line, message, field);
only a file without errors is written, so a rejected file leaves nothing behind. (Real TI can
import the good documents of a file and skip the bad ones; the hub drops one document per file.)
"""

from sqlalchemy import func, insert, select, tuple_, update

from connectors.dynamics_sl.tables import (
    Account,
    Batch,
    Customer,
    GLTran,
    Inventory,
    ItemSite,
    ShipVia,
    SOHeader,
    SOLine,
)
from connectors.dynamics_sl.ti import parse_ti_date

STAMP = {"LUpd_DateTime": func.localtimestamp(), "LUpd_Prog": "98500", "LUpd_User": "TI"}
CREATED = {"Crtd_DateTime": func.localtimestamp(), "Crtd_Prog": "98500", "Crtd_User": "TI", **STAMP}


def next_number(conn, column, *where, digits=6):
    """SL's auto-numbering: the last numeric value plus one, zero padded. SL keeps the last number on a
    setup row that the numbering transaction holds until it ends; a transaction-scoped advisory lock
    per numbered column plays that row, so two shipments at once never take the same number (the
    second waits). Take it after lock_sites, as every caller does: one lock order, no deadlock."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{column.table.fullname}.{column.name}"))))
    values = conn.scalars(select(column).where(*where)).all()
    numbers = [int(value) for value in (v.strip() for v in values) if value.isdigit()]
    return f"{max(numbers, default=0) + 1:0{digits}d}"


def _number(values, name, errors, line, minimum=0.0, above=False):
    try:
        number = float(values[name])
    except ValueError:
        errors.append((line, f"{name} {values[name]!r} is not a number", name))
        return None
    if number < minimum or (above and number <= minimum):
        errors.append((line, f"{name} {values[name]} is out of range", name))
        return None
    return number


def _date(values, name, errors, line):
    try:
        return parse_ti_date(values[name])
    except ValueError:
        errors.append((line, f"{name} {values[name]!r} is not a date (MM/DD/YYYY)", name))
        return None


def _exists(conn, table, **keys):
    return conn.scalar(select(func.count()).select_from(table).where(
        *(table.c[name] == value for name, value in keys.items()))) > 0


def sales_orders(conn, records, line_ref_field):
    """Order/Line records -> SOHeader + SOLine, stock allocated on ItemSite."""
    errors, documents = [], []
    for line, level, values in records:
        if level == "order":
            documents.append((line, values, []))
            for name, table, keys in (("CustID", Customer, {"CustId": values["CustID"]}),
                                      ("ShipViaID", ShipVia, {"CpnyID": values["CpnyID"],
                                                              "ShipViaID": values["ShipViaID"]})):
                if not _exists(conn, table, **keys):
                    errors.append((line, f"{name} '{values[name]}' is not valid", name))
            _date(values, "OrdDate", errors, line)
        elif level == "line" and documents:
            documents[-1][2].append((line, values))
            _check_line(conn, documents[-1][1]["CpnyID"], values, errors, line)
        else:
            errors.append((line, f"a {level} record is not expected here", "Level"))
    for line, header, lines in documents:
        if not lines:
            errors.append((line, f"order {header['CustOrdNbr']} has no lines", "Level"))
    if errors:
        return errors
    lock_sites(conn, [(header["CpnyID"], values["InvtID"], values["SiteID"])
                      for _, header, lines in documents for _, values in lines])
    for _, header, lines in documents:
        _write_order(conn, header, [values for _, values in lines], line_ref_field)
    return []


def _check_line(conn, company, values, errors, line):
    if not _exists(conn, Inventory, InvtID=values["InvtID"]):
        errors.append((line, f"Inventory ID '{values['InvtID']}' is not valid", "InvtID"))
    elif not _exists(conn, ItemSite, InvtID=values["InvtID"], SiteID=values["SiteID"], CpnyID=company):
        errors.append((line, f"Inventory ID '{values['InvtID']}' is not set up at site '{values['SiteID']}'",
                       "SiteID"))
    _number(values, "QtyOrd", errors, line, above=True)
    _number(values, "SlsPrice", errors, line)
    _date(values, "ReqDate", errors, line)


def _write_order(conn, header, lines, line_ref_field):
    company = header["CpnyID"]
    order_nbr = next_number(conn, SOHeader.c.OrdNbr, SOHeader.c.CpnyID == company)
    total = sum(float(v["QtyOrd"]) * float(v["SlsPrice"]) for v in lines)
    conn.execute(insert(SOHeader).values(
        **{k: v for k, v in header.items() if k != "OrdDate"}, OrdDate=parse_ti_date(header["OrdDate"]),
        OrdNbr=order_nbr, Status="O", TotMerch=total, TotOrd=total, UnshippedBalance=total, **CREATED,
    ))
    for number, values in enumerate(lines, start=1):
        quantity = float(values["QtyOrd"])
        conn.execute(insert(SOLine).values(
            CpnyID=company, OrdNbr=order_nbr, LineRef=f"{number:05d}", InvtID=values["InvtID"],
            Descr=values["Descr"], SiteID=values["SiteID"], QtyOrd=quantity, QtyOpenShip=quantity,
            SlsPrice=float(values["SlsPrice"]), TotOrd=quantity * float(values["SlsPrice"]),
            ReqDate=parse_ti_date(values["ReqDate"]), Status="O", **{line_ref_field: values["AmazonLineRef"]},
            **CREATED,
        ))
        allocate(conn, company, values["InvtID"], values["SiteID"], quantity)


def lock_sites(conn, sites):
    """Lock the ItemSite rows (company, item, site) a transaction is about to move stock on, in key
    order. Everything in the emulator that moves stock (an import, a cancellation, a shipment) takes
    them this way first, so two of them wait for each other instead of deadlocking: each took the rows
    in the order of its own lines, and a chaos run met PostgreSQL killing a shipment as the victim.
    Real SL may deadlock between its own screens; the hub never sees that, it only reads SL and
    drops Transaction Import files, so the emulator does not play it."""
    keys = sorted({(company, item, site) for company, item, site in sites})
    if keys:
        columns = (ItemSite.c.CpnyID, ItemSite.c.InvtID, ItemSite.c.SiteID)
        conn.execute(select(*columns).where(tuple_(*columns).in_(keys)).order_by(*columns).with_for_update())


def allocate(conn, company, item, site, quantity):
    """Reserve (or, negative, release) stock for open orders."""
    site_row = ItemSite.c
    conn.execute(update(ItemSite).where(
        site_row.CpnyID == company, site_row.InvtID == item, site_row.SiteID == site,
    ).values(QtyAlloc=site_row.QtyAlloc + quantity, QtyAvail=site_row.QtyAvail - quantity,
             QtyCustOrd=site_row.QtyCustOrd + quantity, **STAMP))


def cancellations(conn, records):
    """Cancel records -> SOHeader.Cancelled = 1, Status 'C', open allocation freed."""
    errors, orders = [], []
    for line, level, values in records:
        if level != "cancel":
            errors.append((line, f"a {level} record is not expected here", "Level"))
            continue
        order = conn.execute(select(SOHeader).where(
            SOHeader.c.CpnyID == values["CpnyID"], SOHeader.c.OrdNbr == values["OrdNbr"])).first()
        if order is None or order.CustOrdNbr.strip() != values["CustOrdNbr"]:
            errors.append((line, f"Order Number '{values['OrdNbr']}' is not valid", "OrdNbr"))
            continue
        shipped = conn.scalar(select(func.sum(SOLine.c.QtyShip)).where(
            SOLine.c.CpnyID == order.CpnyID, SOLine.c.OrdNbr == order.OrdNbr)) or 0
        if shipped > 0:
            errors.append((line, f"Order '{values['OrdNbr']}' has shipped quantities and cannot be cancelled",
                           "Cancelled"))
        elif not order.Cancelled:
            orders.append(order)
    if errors:
        return errors
    lines = {order.OrdNbr: conn.execute(select(SOLine).where(
        SOLine.c.CpnyID == order.CpnyID, SOLine.c.OrdNbr == order.OrdNbr)).all() for order in orders}
    lock_sites(conn, [(line.CpnyID, line.InvtID, line.SiteID) for rows in lines.values() for line in rows])
    for order in orders:
        key = (SOLine.c.CpnyID == order.CpnyID, SOLine.c.OrdNbr == order.OrdNbr)
        for line in lines[order.OrdNbr]:
            allocate(conn, order.CpnyID, line.InvtID, line.SiteID, -line.QtyOpenShip)
        conn.execute(update(SOLine).where(*key).values(QtyOpenShip=0, Status="C", **STAMP))
        conn.execute(update(SOHeader).where(SOHeader.c.CpnyID == order.CpnyID, SOHeader.c.OrdNbr == order.OrdNbr)
                     .values(Cancelled=1, Status="C", UnshippedBalance=0, **STAMP))
    return []


def gl_batches(conn, records):
    """Batch/Transaction records -> Batch + GLTran, unreleased (Rlsed = 0) for the accountant to release."""
    errors, batches = [], []
    for line, level, values in records:
        if level == "batch":
            batches.append((line, values, []))
            _number(values, "CtrlTot", errors, line)
        elif level == "transaction" and batches:
            batches[-1][2].append(values)
            if not _exists(conn, Account, Acct=values["Acct"], Active=1):
                errors.append((line, f"Account '{values['Acct']}' is not valid", "Acct"))
            for name in ("DrAmt", "CrAmt"):
                _number(values, name, errors, line)
            _date(values, "TranDate", errors, line)
        else:
            errors.append((line, f"a {level} record is not expected here", "Level"))
    if errors:
        return errors
    for line, header, lines in batches:
        debit = sum(float(v["DrAmt"]) for v in lines)
        credit = sum(float(v["CrAmt"]) for v in lines)
        if not lines or abs(debit - credit) > 0.005 or abs(debit - float(header["CtrlTot"])) > 0.005:
            errors.append((line, f"Batch is out of balance (debits {debit:.2f}, credits {credit:.2f})", "CtrlTot"))
    if errors:
        return errors
    for _, header, lines in batches:
        _write_batch(conn, header, lines)
    return []


def _write_batch(conn, header, lines):
    batch_nbr = next_number(conn, Batch.c.BatNbr, Batch.c.Module == "GL")
    debit = sum(float(v["DrAmt"]) for v in lines)
    conn.execute(insert(Batch).values(
        Module="GL", BatNbr=batch_nbr, CpnyID=header["CpnyID"], JrnlType=header["JrnlType"],
        LedgerID=header["LedgerID"], PerPost=header["PerPost"], Descr=header["Descr"], CuryId=header["CuryId"],
        DrTot=debit, CrTot=sum(float(v["CrAmt"]) for v in lines), CtrlTot=float(header["CtrlTot"]),
        Status="B", Rlsed=0, BatType="N", EditScrnNbr="01010", **CREATED,
    ))
    for number, values in enumerate(lines, start=1):
        conn.execute(insert(GLTran).values(
            Module="GL", BatNbr=batch_nbr, LineNbr=number, CpnyID=header["CpnyID"], Acct=values["Acct"],
            Sub=values["Sub"], DrAmt=float(values["DrAmt"]), CrAmt=float(values["CrAmt"]),
            TranDate=parse_ti_date(values["TranDate"]), TranDesc=values["TranDesc"],
            ExtRefNbr=values["ExtRefNbr"], JrnlType=header["JrnlType"], LedgerID=header["LedgerID"],
            PerPost=header["PerPost"], Posted="U", Rlsed=0, **CREATED,
        ))
