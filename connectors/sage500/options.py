"""The options of a Sage 500 connection (`BackOfficeConnection.options`), read and checked once.

The keys, defaults and meanings are listed in `connectors.sage500.client` and docs/connectors/sage500.md.
"""

import re
import zoneinfo
from dataclasses import MISSING, dataclass, fields

from connectors.base import ConnectorError

# Procedure, table and column names are spliced into SQL, so they must be plain identifiers
# (optionally schema-qualified, e.g. dbo.spSOapiSalesOrdIns).
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$")
SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
CANCEL_MODES = ("api", "refuse")

DEFAULT_TRACKING_QUERY = (
    "SELECT pl.ShipLineKey AS ship_line_key, p.TrackingNo AS tracking_number, pl.QtyShipped AS quantity "
    "FROM tsoShipPkg p JOIN tsoShipPkgLine pl ON pl.ShipPkgKey = p.ShipPkgKey "
    "WHERE p.ShipKey = :ship_key ORDER BY p.PkgNo, pl.ShipLineKey"
)
DEFAULT_GL_BATCH_QUERY = (
    "SELECT BatchID AS batch_id FROM tciBatchLog WHERE CompanyID = :company_id AND BatchCmnt = :reference "
    "ORDER BY BatchKey"
)


@dataclass(frozen=True)
class Options:
    """A Sage 500 connection's settings, with the documented names as defaults."""

    company_id: str
    customer_id: str
    warehouse_id: str
    schema: str = ""
    user_id: str = "hub"
    setup_step_key: int = 1
    order_procedure: str = "spSOapiSalesOrdIns"
    order_staging_table: str = "StgSalesOrder"
    order_line_staging_table: str = "StgSOLine"
    gl_procedure: str = "spglapiGLTransactionIns"
    gl_staging_table: str = "StgGLTransaction"
    amazon_id_field: str = "UserFld1"
    line_ref_field: str = "UserFld1"
    user_field_width: int = 15
    cancel_mode: str = "api"
    tracking_query: str = DEFAULT_TRACKING_QUERY
    gl_batch_query: str = DEFAULT_GL_BATCH_QUERY
    timezone: str = "Europe/London"
    page_size: int = 100
    # ShipKeys are handed out before their shipment commits, so a lower key can appear after a higher
    # one was read. Keys missing below the cursor are looked for again for this long (then taken as
    # rolled back or another company's).
    key_gap_seconds: int = 900

    @classmethod
    def of(cls, connection):
        """The options of a connection; a missing or malformed one is a permanent error naming it."""
        raw = connection.options or {}

        def bad(key, why):
            return ConnectorError(f"Sage 500 connection {connection.name!r}: option {key!r} {why}", permanent=True)

        unknown = sorted(set(raw) - {f.name for f in fields(cls)})
        if unknown:
            raise bad(unknown[0], "is not a Sage 500 option")
        values = {}
        for f in fields(cls):
            if f.name not in raw:
                if f.default is MISSING:
                    raise bad(f.name, "is required")
                continue
            value = raw[f.name]
            if f.type is int:
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise bad(f.name, f"must be a positive whole number, not {value!r}")
            elif not isinstance(value, str) or not (value.strip() or f.name == "schema"):
                raise bad(f.name, f"must be non-empty text, not {value!r}")
            values[f.name] = value.strip() if isinstance(value, str) else value
        options = cls(**values)
        for key in ("order_procedure", "order_staging_table", "order_line_staging_table", "gl_procedure",
                    "gl_staging_table", "amazon_id_field", "line_ref_field"):
            if not IDENTIFIER.match(getattr(options, key)):
                raise bad(key, f"must be a SQL identifier, not {getattr(options, key)!r}")
        if options.schema and not SCHEMA_NAME.match(options.schema):
            raise bad("schema", f"must be a SQL identifier, not {options.schema!r}")
        if options.cancel_mode not in CANCEL_MODES:
            raise bad("cancel_mode", f"must be one of {', '.join(CANCEL_MODES)}")
        try:
            zoneinfo.ZoneInfo(options.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise bad("timezone", f"is not a known time zone: {options.timezone!r}") from None
        return options

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.timezone)
