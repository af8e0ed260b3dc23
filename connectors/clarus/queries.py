"""Every GraphQL document the connector sends, and the one place that reads dispatch tracking.

Field and filter names follow the Clarus documentation. Three things are [I] and live only here:
the scalar type names in variable declarations (`ID`, `DateTime`), the shipment's dispatch time
field (`dispatched_at`), and where tracking numbers and package contents sit (`packages {...}`).
"""

import datetime as dt

from connectors.base import ConnectorError, Dispatch, DispatchLine, DispatchPackage

PAGE_INFO = "pageInfo { hasNextPage endCursor }"


def connection_query(name, field, variables, filters, node_fields):
    """A paged relay query: `variables` are declarations like "$account: ID!", `filters` a filter literal."""
    declarations = ", ".join([*variables, "$first: Int", "$after: String"])
    return (f"query {name}({declarations}) {{ {field}(filter: {{{filters}}}, first: $first, after: $after) "
            f"{{ edges {{ node {{ {node_fields} }} }} {PAGE_INFO} }} }}")


GOODS_OUTS_BY_REFERENCE = connection_query(
    "GoodsOutsByReference", "goods_outs", ["$reference: String!", "$account: ID!"],
    "reference: {eq: $reference}, account_id: {eq: $account}",
    "id reference goods_out_status { code name }",
)
GOODS_OUTS_BY_REFERENCES = connection_query(
    "GoodsOutsByReferences", "goods_outs", ["$references: [String!]!", "$account: ID!"],
    "reference: {in: $references}, account_id: {eq: $account}",
    "id reference goods_out_status { code name }",
)
CARRIER_SERVICES = connection_query(
    "CarrierServices", "carrier_services", [], "", "id code name active carrier { id code name }",
)
PRODUCTS_BY_CODE = connection_query(
    "ProductsByCode", "products", ["$codes: [String!]!", "$account: ID!"],
    "code: {in: $codes}, account_id: {eq: $account}", "id code",
)
PRODUCTS = connection_query(
    "Products", "products", ["$account: ID!"], "account_id: {eq: $account}", "id code description",
)
_BALANCE_FIELDS = "available allocated product { code } warehouse { id code }"
STOCK_BALANCES = connection_query(
    "StockBalances", "stock_balances", ["$account: ID!", "$warehouse: ID!"],
    "account_id: {eq: $account}, warehouse_id: {eq: $warehouse}", _BALANCE_FIELDS,
)
STOCK_BALANCES_FOR_CODES = connection_query(
    "StockBalancesForCodes", "stock_balances", ["$account: ID!", "$warehouse: ID!", "$codes: [String!]!"],
    "account_id: {eq: $account}, warehouse_id: {eq: $warehouse}, product_code: {in: $codes}", _BALANCE_FIELDS,
)

# The shipment as a dispatch. Tracking: per package, or the shipment's own (option tracking_on).
SHIPMENT_FIELDS = """
id reference status dispatched_at tracking_number
carrier { code name } carrier_service { code name }
goods_out { id reference }
packages { reference tracking_number
           package_lines { quantity goods_out_line { id alt_line_reference product { code } } } }
"""
_SHIPMENT_SCOPE = 'status: {eq: "dispatched"}, account_id: {eq: $account}, warehouse_id: {eq: $warehouse}'
SHIPMENTS_SINCE = connection_query(
    "DispatchedShipmentsSince", "shipments", ["$account: ID!", "$warehouse: ID!", "$since: DateTime!"],
    _SHIPMENT_SCOPE + ", dispatched_at: {gteq: $since}", SHIPMENT_FIELDS,
)
SHIPMENTS_OF_GOODS_OUT = connection_query(
    "DispatchedShipmentsOfGoodsOut", "shipments", ["$account: ID!", "$warehouse: ID!", "$goods_out: ID!"],
    _SHIPMENT_SCOPE + ", goods_out_id: {eq: $goods_out}", SHIPMENT_FIELDS,
)


def _text(value, field):
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text, not {type(value).__name__}")
    return value


def _quantity(value):
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValueError(f"quantity must be a whole number, not {value!r}")
    return int(value)


def parse_time(value):
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConnectorError(f"Clarus sent a dispatch time that is not ISO 8601: {value!r}", permanent=True) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def dispatch_from_shipment(node, *, ship_method_field, tracking_on):
    """A Clarus shipment node -> the canonical Dispatch (the Amazon order id is the goods-out reference).
    A node of another shape is a permanent ConnectorError naming the shipment and the field."""
    try:
        return _dispatch_from_shipment(node, ship_method_field, tracking_on)
    except ConnectorError:
        raise
    except KeyError as exc:
        problem = f"field {exc.args[0]!r} is missing"
    except (TypeError, AttributeError, ValueError) as exc:
        problem = f"a field has the wrong type or value ({exc})"
    shipment = node.get("id") if isinstance(node, dict) else None
    raise ConnectorError(f"Clarus shipment {shipment!r} cannot be read: {problem}", permanent=True,
                         code="unreadable_shipment")


def _dispatch_from_shipment(node, ship_method_field, tracking_on):
    service = node.get("carrier_service") or {}
    carrier = node.get("carrier") or {}
    packages = []
    for number, package in enumerate(node.get("packages") or [], start=1):
        tracking = node.get("tracking_number") if tracking_on == "shipment" else \
            package.get("tracking_number") or node.get("tracking_number")
        lines = [DispatchLine(line_ref=str(item["goods_out_line"].get("alt_line_reference") or ""),
                              item_code=_text(item["goods_out_line"]["product"]["code"], "product.code"),
                              quantity=_quantity(item["quantity"]))
                 for item in package.get("package_lines") or []]
        packages.append(DispatchPackage(package_ref=str(package.get("reference") or f"{node['id']}-{number}"),
                                        tracking_number=str(tracking or ""), lines=lines))
    return Dispatch(
        dispatch_ref=str(node["id"]),
        amazon_order_id=_text(node["goods_out"]["reference"], "goods_out.reference"),
        back_office_ref=str(node["goods_out"]["id"]),
        carrier=str(carrier.get("name") or carrier.get("code") or ""),
        ship_method=str(service.get(ship_method_field) or ""),
        shipped_at=parse_time(node["dispatched_at"]),
        packages=packages,
    )
