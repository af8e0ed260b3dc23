"""Read queries against the Sage 500 tables, all scoped by the connection's CompanyID.

Results are aliased in lower case so that SQL Server and Postgres (which folds unquoted names)
return the same keys. Each function runs inside the caller's transaction.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, literal_column, select, text

from connectors.base import (
    Dispatch,
    DispatchLine,
    DispatchPackage,
    DispatchPage,
    Item,
    SalesOrderStatus,
    ShipMethod,
    StockRecord,
)
from connectors.sage500.amazon_ids import from_user_field, to_user_field
from connectors.sql import quantity, trim
from integration_hub.core.iterables import chunked

logger = logging.getLogger(__name__)

# tsoSalesOrder.Status (BACKOFFICE.md 4.2)
ORDER_STATUS = {0: "Not active", 1: "Open", 2: "Inactive", 3: "Canceled", 4: "Closed", 5: "Incomplete",
                6: "Pending approval"}
CANCELED, CLOSED = 3, 4
ITEM_DELETED, ITEM_ACTIVE = 4, 1
CHUNK = 500  # item ids per query: SQL Server takes at most 2100 parameters


@dataclass
class SageOrder:
    """A sales order found by its Amazon order id."""

    so_key: int
    tran_no: str
    status: int
    qty_ordered: int
    qty_shipped: int

    def as_status(self, amazon_order_id):
        cancelled = self.status == CANCELED
        dispatched = not cancelled and self.qty_shipped > 0 and self.qty_shipped >= self.qty_ordered
        return SalesOrderStatus(amazon_order_id=amazon_order_id, back_office_ref=self.tran_no,
                                status=ORDER_STATUS.get(self.status, str(self.status)),
                                cancelled=cancelled, dispatched=dispatched)


def find_order(conn, options, amazon_order_id):
    """The company's sales order for an Amazon order id (kept in the user field), or None."""
    rows = conn.execute(text(
        "SELECT so.SOKey AS so_key, so.TranNo AS tran_no, so.Status AS status, "
        "(SELECT SUM(d.QtyOrd) FROM tsoSOLineDist d JOIN tsoSOLine l ON l.SOLineKey = d.SOLineKey "
        " WHERE l.SOKey = so.SOKey) AS qty_ordered, "
        "(SELECT SUM(d.QtyShip) FROM tsoSOLineDist d JOIN tsoSOLine l ON l.SOLineKey = d.SOLineKey "
        " WHERE l.SOKey = so.SOKey) AS qty_shipped "
        f"FROM tsoSalesOrder so WHERE so.CompanyID = :company_id AND so.{options.amazon_id_field} = :stored "
        "ORDER BY so.SOKey"
    ), {"company_id": options.company_id,
        "stored": to_user_field(amazon_order_id, options.user_field_width)}).mappings().all()
    if not rows:
        return None
    if len(rows) > 1:
        logger.warning("Sage 500 holds %s orders for Amazon order %s; using the first", len(rows), amazon_order_id)
    row = rows[0]
    return SageOrder(so_key=row["so_key"], tran_no=trim(row["tran_no"]), status=row["status"],
                     qty_ordered=quantity(row["qty_ordered"]), qty_shipped=quantity(row["qty_shipped"]))


def find_batch(conn, options, reference):
    """The BatchID of the GL batch imported for a journal reference (the gl_batch_query option), or None."""
    row = conn.execute(text(options.gl_batch_query),
                       {"company_id": options.company_id, "reference": reference}).first()
    return trim(row[0]) if row else None


def company_name(conn, options):
    row = conn.execute(text("SELECT CompanyName AS name FROM tsmCompany WHERE CompanyID = :company_id"),
                       {"company_id": options.company_id}).first()
    return trim(row[0]) if row else None


def missing_procedures(conn, names):
    """The names among `names` with no stored procedure in the database (schema probe)."""
    wanted = {name.rsplit(".", 1)[-1].lower(): name for name in names}
    found = conn.execute(
        text("SELECT LOWER(ROUTINE_NAME) AS name FROM INFORMATION_SCHEMA.ROUTINES WHERE LOWER(ROUTINE_NAME) IN :names")
        .bindparams(bindparam("names", expanding=True)), {"names": list(wanted)}).scalars().all()
    return sorted(name for key, name in wanted.items() if key not in set(found))


def list_items(conn, options):
    rows = conn.execute(text(
        "SELECT i.ItemID AS item_id, d.ShortDesc AS description, i.Status AS status FROM timItem i "
        "LEFT JOIN timItemDescription d ON d.ItemKey = i.ItemKey "
        "WHERE i.CompanyID = :company_id AND i.Status <> :deleted ORDER BY i.ItemID"
    ), {"company_id": options.company_id, "deleted": ITEM_DELETED}).mappings()
    return [Item(item_code=trim(r["item_id"]), description=trim(r["description"] or ""),
                 active=r["status"] == ITEM_ACTIVE) for r in rows]


def list_ship_methods(conn, options):
    rows = conn.execute(text(
        "SELECT ShipMethID AS code, ShipMethDesc AS description FROM tciShipMethod "
        "WHERE CompanyID = :company_id ORDER BY ShipMethID"
    ), {"company_id": options.company_id}).mappings()
    return [ShipMethod(code=trim(r["code"]), description=trim(r["description"] or "")) for r in rows]


STOCK_SQL = (
    # On hand counts every bin; available leaves out bins flagged ExclFromAvail and what is pending
    # to go out (PendQtyDecrease); allocated is the warehouse's quantity on sales orders.
    "SELECT i.ItemID AS item_id, w.WhseID AS whse_id, "
    "COALESCE(SUM(bi.QtyOnHand), 0) AS on_hand, "
    "COALESCE(SUM(CASE WHEN b.ExclFromAvail = 0 THEN bi.QtyOnHand - bi.PendQtyDecrease ELSE 0 END), 0) AS available, "
    "COALESCE(MAX(inv.QtyOnSO), 0) AS on_so "
    "FROM timItem i JOIN timWarehouse w ON w.CompanyID = i.CompanyID AND w.WhseID = :warehouse_id "
    "LEFT JOIN (timWhseBinInvt bi JOIN timWhseBin b ON b.WhseBinKey = bi.WhseBinKey) "
    "  ON bi.ItemKey = i.ItemKey AND b.WhseKey = w.WhseKey "
    "LEFT JOIN timInventory inv ON inv.ItemKey = i.ItemKey AND inv.WhseKey = w.WhseKey "
    "WHERE i.CompanyID = :company_id AND i.Status <> :deleted {only} "
    "GROUP BY i.ItemID, w.WhseID ORDER BY i.ItemID"
)


def get_stock(conn, options, item_codes=None):
    params = {"company_id": options.company_id, "warehouse_id": options.warehouse_id, "deleted": ITEM_DELETED}
    if item_codes is None:
        batches = [conn.execute(text(STOCK_SQL.format(only="")), params).mappings().all()]
    else:
        query = text(STOCK_SQL.format(only="AND i.ItemID IN :codes")).bindparams(bindparam("codes", expanding=True))
        codes = list(dict.fromkeys(item_codes))
        batches = [conn.execute(query, {**params, "codes": codes[start:start + CHUNK]}).mappings().all()
                   for start in range(0, len(codes), CHUNK)]
    now = dt.datetime.now(dt.timezone.utc)
    return [StockRecord(item_code=trim(r["item_id"]), warehouse=trim(r["whse_id"]), on_hand=quantity(r["on_hand"]),
                        allocated=quantity(r["on_so"]), available=quantity(r["available"]), measured_at=now)
            for rows in batches for r in rows]


DISPATCH_SQL = (
    "SELECT sh.ShipKey AS ship_key, sh.TranID AS tran_id, sh.CreateDate AS created, "
    "sm.ShipMethID AS ship_method, sm.ShipMethDesc AS ship_method_desc, so.SOKey AS so_key, "
    "so.TranNo AS tran_no, so.{amazon_id_field} AS amazon_ref, sl.ShipLineKey AS ship_line_key, "
    "sl.QtyShipped AS qty, sol.{line_ref_field} AS line_ref, i.ItemID AS item_id "
    "FROM tsoShipment sh JOIN tsoShipLine sl ON sl.ShipKey = sh.ShipKey "
    "JOIN tsoSOLine sol ON sol.SOLineKey = sl.SOLineKey JOIN tsoSalesOrder so ON so.SOKey = sol.SOKey "
    "JOIN tarCustomer c ON c.CustKey = so.CustKey JOIN timItem i ON i.ItemKey = sl.ItemKey "
    "LEFT JOIN tciShipMethod sm ON sm.ShipMethKey = sh.ShipMethKey "
    "WHERE sh.CompanyID = :company_id AND c.CustID = :customer_id AND {where} "
    "ORDER BY sh.ShipKey, sl.ShipLineKey"
)
MAX_KEY_GAPS = 1000  # missing keys remembered in the cursor (the newest are kept)


def parse_dispatch_cursor(cursor):
    """(last ShipKey read, {missing key: epoch seconds first missed}) from "<key>[;<key>@<epoch>,...]"."""
    head, _, tail = (cursor or "0").partition(";")
    try:
        gaps = {}
        for part in filter(None, tail.split(",")):
            key, _, seen = part.partition("@")
            gaps[int(key)] = float(seen)
        return int(head or 0), gaps
    except ValueError:
        raise ValueError(f"Sage 500 dispatch cursor must be a ShipKey number, not {cursor!r}") from None


def dispatch_cursor(last, gaps):
    kept = sorted(gaps.items())[-MAX_KEY_GAPS:]
    return str(last) + (";" + ",".join(f"{key}@{int(seen)}" for key, seen in kept) if kept else "")


def list_dispatches(conn, options, cursor, now):
    """Dispatches of the hub's orders in the next `page_size` shipments after the cursor's ShipKey, and in
    shipments whose lower key committed late (keys missing when a higher one was read, looked for again
    for `key_gap_seconds`). One Dispatch per (shipment, sales order): a Sage shipment may carry several
    orders of one customer.
    """
    after, gaps = parse_dispatch_cursor(cursor)
    params = {"company_id": options.company_id}
    keys = conn.execute(
        select(literal_column("ShipKey")).select_from(text("tsoShipment"))
        .where(text("CompanyID = :company_id AND ShipKey > :after"))
        .order_by(literal_column("ShipKey")).limit(options.page_size),
        {**params, "after": after},
    ).scalars().all()
    late = []
    for chunk in chunked(sorted(gaps), CHUNK):
        late += conn.execute(text("SELECT ShipKey FROM tsoShipment WHERE CompanyID = :company_id AND ShipKey IN "
                                  ":keys").bindparams(bindparam("keys", expanding=True)),
                             {**params, "keys": chunk}).scalars().all()
    gaps = {key: seen for key, seen in gaps.items() if key not in set(late) and now - seen < options.key_gap_seconds}
    if keys:
        present = set(keys)
        first_missing = max(after + 1, keys[-1] - MAX_KEY_GAPS)
        gaps.update({key: now for key in range(first_missing, keys[-1]) if key not in present})
        after = keys[-1]
    dispatches = []
    for chunk in chunked(list(keys) + sorted(late), CHUNK):  # one shipment's rows never straddle two chunks
        dispatches += dispatches_where(conn, options, "sh.ShipKey IN :keys", {"keys": chunk})
    return DispatchPage(dispatches=dispatches, cursor=dispatch_cursor(after, gaps))


def dispatches_of_order(conn, options, amazon_order_id):
    """Every dispatch of one Amazon order, read fresh (a package that had no tracking number yet)."""
    stored = to_user_field(amazon_order_id, options.user_field_width)
    return dispatches_where(conn, options, f"so.{options.amazon_id_field} = :stored", {"stored": stored})


def dispatches_where(conn, options, where, params):
    statement = text(DISPATCH_SQL.format(amazon_id_field=options.amazon_id_field,
                                         line_ref_field=options.line_ref_field, where=where))
    if "keys" in params:
        statement = statement.bindparams(bindparam("keys", expanding=True))
    rows = conn.execute(statement, {"company_id": options.company_id, "customer_id": options.customer_id,
                                    **params}).mappings().all()
    groups = {}
    for row in rows:
        if not trim(row["amazon_ref"]):  # an order keyed in by hand for the Amazon customer: not the hub's
            continue
        groups.setdefault((row["ship_key"], row["so_key"]), []).append(row)
    tracking = {key: conn.execute(text(options.tracking_query),
                                  {"ship_key": key, "company_id": options.company_id}).mappings().all()
                for key in {ship_key for ship_key, _ in groups}}
    return [dispatch_of(options, lines, tracking[ship_key]) for (ship_key, _), lines in groups.items()]


def dispatch_of(options, lines, tracking_rows):
    """One Dispatch from a shipment's lines of one order and the shipment's tracking rows."""
    first = lines[0]
    by_line = {row["ship_line_key"]: row for row in lines}
    packages, covered = {}, set()
    for row in tracking_rows:
        line = by_line.get(row["ship_line_key"])
        if line is None:  # another order's line in the same shipment
            continue
        covered.add(row["ship_line_key"])
        qty = line["qty"] if row["quantity"] is None else row["quantity"]
        packages.setdefault(trim(row["tracking_number"] or ""), []).append(
            DispatchLine(line_ref=trim(line["line_ref"]), item_code=trim(line["item_id"]), quantity=quantity(qty)))
    untracked = [DispatchLine(line_ref=trim(r["line_ref"]), item_code=trim(r["item_id"]), quantity=quantity(r["qty"]))
                 for key, r in by_line.items() if key not in covered]
    if untracked:
        packages.setdefault("", []).extend(untracked)
    tran_id, tran_no = trim(first["tran_id"]), trim(first["tran_no"])
    created = first["created"]
    return Dispatch(
        dispatch_ref=f"{tran_id}/{tran_no}",
        amazon_order_id=from_user_field(first["amazon_ref"]),
        back_office_ref=tran_no,
        carrier=trim(first["ship_method_desc"] or first["ship_method"] or ""),
        ship_method=trim(first["ship_method"] or ""),
        shipped_at=created.replace(tzinfo=options.zone) if created.tzinfo is None else created,
        packages=[DispatchPackage(package_ref=f"{tran_id}-{number}", tracking_number=tracking_number, lines=pkg_lines)
                  for number, (tracking_number, pkg_lines) in enumerate(packages.items(), 1)],
    )
