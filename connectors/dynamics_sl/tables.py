"""The Dynamics SL tables the connector reads, as SQLAlchemy Core tables (names and widths as SL has them).

One definition serves the client's queries (SQL Server in production, Postgres for the emulator)
and the emulator's DDL. The tables carry no schema: each engine maps it with
`schema_translate_map` (`for_schema`). Only the columns we use are declared; SL has many more.
SL conventions kept here: space-padded CHAR(n), FLOAT for money and quantities, NOT NULL with
' ' / 0 / 1900-01-01 defaults. The rowversion `tstamp` column is left out: nothing reads it.
"""

from sqlalchemy import CHAR, Column, DateTime, Float, MetaData, PrimaryKeyConstraint, SmallInteger, Table, text

from connectors.sql import NULL_DATE

metadata = MetaData()


def char(name, width):
    return Column(name, CHAR(width), nullable=False, server_default=text("' '"))


def number(name):
    return Column(name, Float(53), nullable=False, server_default=text("0"))


def flag(name):
    return Column(name, SmallInteger, nullable=False, server_default=text("0"))


def date(name):
    return Column(name, DateTime, nullable=False, server_default=text(f"'{NULL_DATE:%Y-%m-%d}'"))


def audit():
    return [date("Crtd_DateTime"), char("Crtd_Prog", 8), char("Crtd_User", 10),
            date("LUpd_DateTime"), char("LUpd_Prog", 8), char("LUpd_User", 10)]


Customer = Table(
    "Customer", metadata,
    char("CustId", 15), char("Name", 60), char("Status", 1), char("CuryId", 4), char("Terms", 2),
    *audit(),
    PrimaryKeyConstraint("CustId"),
)

Inventory = Table(
    "Inventory", metadata,
    char("InvtID", 30), char("Descr", 60), char("StkUnit", 6), char("DfltSite", 10), char("TranStatusCode", 2),
    flag("StkItem"), number("StkBasePrc"), char("UPCCode", 30),
    *audit(),
    PrimaryKeyConstraint("InvtID"),
)

ItemSite = Table(
    "ItemSite", metadata,
    char("InvtID", 30), char("SiteID", 10), char("CpnyID", 10),
    number("QtyOnHand"), number("QtyAlloc"), number("QtyAvail"), number("QtyCustOrd"), number("QtyShipNotInv"),
    number("AvgCost"),
    *audit(),
    PrimaryKeyConstraint("InvtID", "SiteID"),
)

ShipVia = Table(
    "ShipVia", metadata,
    char("CpnyID", 10), char("ShipViaID", 15), char("Descr", 30), char("SCAC", 5),
    *audit(),
    PrimaryKeyConstraint("CpnyID", "ShipViaID"),
)

SOHeader = Table(
    "SOHeader", metadata,
    char("CpnyID", 10), char("OrdNbr", 15), char("CustID", 15), char("CustOrdNbr", 25), date("OrdDate"),
    char("SOTypeID", 4), char("Status", 1), flag("Cancelled"), char("ShipViaID", 15), char("ShipSiteID", 10),
    char("ShipName", 60), char("ShipAttn", 30), char("ShipAddr1", 60), char("ShipAddr2", 60), char("ShipCity", 30),
    char("ShipState", 3), char("ShipZip", 10), char("ShipCountry", 3), char("ShipPhone", 30), char("CuryID", 4),
    number("TotMerch"), number("TotOrd"), number("UnshippedBalance"),
    *audit(),
    PrimaryKeyConstraint("CpnyID", "OrdNbr"),
)

SOLine = Table(
    "SOLine", metadata,
    char("CpnyID", 10), char("OrdNbr", 15), char("LineRef", 5), char("InvtID", 30), char("Descr", 60),
    char("SiteID", 10), number("QtyOrd"), number("QtyShip"), number("QtyOpenShip"), number("SlsPrice"),
    number("TotOrd"), date("ReqDate"), char("Status", 1), char("User1", 30), char("User2", 30),
    *audit(),
    PrimaryKeyConstraint("CpnyID", "OrdNbr", "LineRef"),
)

SOShipHeader = Table(
    "SOShipHeader", metadata,
    char("CpnyID", 10), char("ShipperID", 15), char("OrdNbr", 15), char("CustID", 15), char("ShipViaID", 15),
    char("TrackingNbr", 25), date("ShipDateAct"), date("ShipDatePlan"), flag("ShippingConfirmed"),
    char("SiteID", 10), char("Status", 1), flag("Cancelled"), flag("TotBoxes"),
    *audit(),
    PrimaryKeyConstraint("CpnyID", "ShipperID"),
)

SOShipLine = Table(
    "SOShipLine", metadata,
    char("CpnyID", 10), char("ShipperID", 15), char("LineRef", 5), char("OrdNbr", 15), char("OrdLineRef", 5),
    char("InvtID", 30), char("SiteID", 10), number("QtyOrd"), number("QtyShip"), number("SlsPrice"),
    *audit(),
    PrimaryKeyConstraint("CpnyID", "ShipperID", "LineRef"),
)

Account = Table(
    "Account", metadata,
    char("Acct", 10), char("Descr", 30), char("AcctType", 2), flag("Active"),
    *audit(),
    PrimaryKeyConstraint("Acct"),
)

Batch = Table(
    "Batch", metadata,
    char("Module", 2), char("BatNbr", 10), char("CpnyID", 10), char("JrnlType", 3), char("LedgerID", 10),
    char("PerPost", 6), char("Descr", 30), char("CuryId", 4), number("CrTot"), number("DrTot"), number("CtrlTot"),
    char("Status", 1), flag("Rlsed"), char("BatType", 1), char("EditScrnNbr", 5),
    *audit(),
    PrimaryKeyConstraint("Module", "BatNbr"),
)

GLTran = Table(
    "GLTran", metadata,
    char("Module", 2), char("BatNbr", 10), flag("LineNbr"), char("CpnyID", 10), char("Acct", 10),
    char("Sub", 24), number("DrAmt"), number("CrAmt"), date("TranDate"), char("TranDesc", 30),
    char("RefNbr", 10), char("ExtRefNbr", 15), char("JrnlType", 3), char("LedgerID", 10), char("PerPost", 6),
    char("Posted", 1), flag("Rlsed"),
    *audit(),
    PrimaryKeyConstraint("Module", "BatNbr", "LineNbr"),
)


def width(table, column):
    """The CHAR width of a column, for validating values before they reach a TI file."""
    return table.c[column].type.length


def for_schema(engine, schema):
    """The engine with the unqualified SL tables mapped to `schema` ("" = the login's default schema)."""
    return engine.execution_options(schema_translate_map={None: schema or None})
