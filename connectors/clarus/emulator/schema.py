"""The emulator's GraphQL read API, a real schema executed by graphql-core.

Like Clarus: relay connections (`edges { cursor node }`, `pageInfo { hasNextPage endCursor }`)
paged with `first`/`after`, a `filter` argument whose fields take the operators eq, in, like,
ilike, gt, gteq, lt, lteq, between, from, to, filled, and IDs serialised as strings. The
top-level field names follow the documented query names; the exact nesting is [I].
"""

import base64
import datetime as dt
import fnmatch
import functools
from operator import attrgetter

from graphql import ExecutionResult, GraphQLError, build_schema, execute_sync, parse, validate

PAGE_DEFAULT = 25
PAGE_MAX = 100  # [I] Clarus documents no page cap; the emulator enforces one so paging is exercised.

NODE_TYPES = """
scalar DateTime

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type Status { id: ID! code: String! name: String! }
type Account { id: ID! code: String! name: String }
type Warehouse { id: ID! code: String! name: String }
type Product { id: ID! code: String! description: String }
type Carrier { id: ID! code: String! name: String! carrier_type: String }
type CarrierService { id: ID! code: String! name: String! active: Boolean! is_default: Boolean! carrier: Carrier! }
type GoodsOut {
  id: ID! reference: String! external_system_reference1: String priority: Int
  expected_date_of_dispatch: String actual_date_of_dispatch: DateTime goods_out_status: Status!
  account: Account! warehouse: Warehouse! carrier: Carrier carrier_service: CarrierService
  goods_out_lines: [GoodsOutLine!]! created_at: DateTime! updated_at: DateTime!
}
type GoodsOutLine {
  id: ID! order_quantity: Int! allocated_quantity: Int! pick_quantity: Int! dispatch_quantity: Int!
  short_status: String alt_line_number: Int alt_line_reference: String
  product: Product! goods_out: GoodsOut! carrier: Carrier
}
type PackageLine { quantity: Int! goods_out_line: GoodsOutLine! }
type Package { id: ID! reference: String tracking_number: String package_lines: [PackageLine!]! }
type Shipment {
  id: ID! reference: String name: String status: String! tracking_number: String dispatched_at: DateTime
  collection_datetime: DateTime packages_count: Int! carrier: Carrier carrier_service: CarrierService
  warehouse: Warehouse! goods_out: GoodsOut! packages: [Package!]!
}
type StockBalance {
  id: ID! available: Int! allocated: Int! picked: Int! product: Product! account: Account! warehouse: Warehouse!
}

input IDFilter { eq: ID in: [ID!] }
input StringFilter { eq: String in: [String!] like: String ilike: String filled: Boolean }
input IntFilter { eq: Int in: [Int!] gt: Int gteq: Int lt: Int lteq: Int between: [Int!] }
input BooleanFilter { eq: Boolean }
input DateTimeFilter {
  eq: DateTime gt: DateTime gteq: DateTime lt: DateTime lteq: DateTime between: [DateTime!]
  from: DateTime to: DateTime filled: Boolean
}
"""


def _attr(path):
    return attrgetter(path)


# query field -> (node type, the tenant's collection, {filter field: (kind, getter)})
ROOTS = {
    "goods_outs": ("GoodsOut", lambda t: t.goods_outs, {
        "id": ("ID", _attr("id")), "reference": ("String", _attr("reference")),
        "external_system_reference1": ("String", _attr("external_system_reference1")),
        "account_id": ("ID", _attr("account.id")), "warehouse_id": ("ID", _attr("warehouse.id")),
        "goods_out_status_code": ("String", _attr("status")),
        "created_at": ("DateTime", _attr("created_at")), "updated_at": ("DateTime", _attr("updated_at")),
    }),
    "goods_out_lines": ("GoodsOutLine", lambda t: [ln for g in t.goods_outs for ln in g.lines], {
        "id": ("ID", _attr("id")), "goods_out_id": ("ID", _attr("goods_out.id")),
        "product_id": ("ID", _attr("product.id")), "product_code": ("String", _attr("product.code")),
    }),
    "shipments": ("Shipment", lambda t: t.shipments, {
        "id": ("ID", _attr("id")), "status": ("String", _attr("status")),
        "goods_out_id": ("ID", _attr("goods_out.id")), "account_id": ("ID", _attr("account.id")),
        "warehouse_id": ("ID", _attr("warehouse.id")), "dispatched_at": ("DateTime", _attr("dispatched_at")),
    }),
    "stock_balances": ("StockBalance", lambda t: t.balances, {
        "product_id": ("ID", _attr("product.id")), "product_code": ("String", _attr("product.code")),
        "account_id": ("ID", _attr("account.id")), "warehouse_id": ("ID", _attr("warehouse.id")),
    }),
    "carriers": ("Carrier", lambda t: t.carriers, {"id": ("ID", _attr("id")), "code": ("String", _attr("code"))}),
    "carrier_services": ("CarrierService", lambda t: t.carrier_services, {
        "id": ("ID", _attr("id")), "code": ("String", _attr("code")), "name": ("String", _attr("name")),
        "active": ("Boolean", _attr("active")), "carrier_id": ("ID", _attr("carrier.id")),
    }),
    "products": ("Product", lambda t: t.products, {
        "id": ("ID", _attr("id")), "code": ("String", _attr("code")), "account_id": ("ID", _attr("account_id")),
    }),
}


def _sdl():
    parts = [NODE_TYPES]
    query_fields = []
    for field, (node, _, filters) in ROOTS.items():
        filter_fields = " ".join(f"{name}: {kind}Filter" for name, (kind, _) in filters.items())
        parts.append(f"input {node}Filter {{ {filter_fields} }}")
        parts.append(f"type {node}Edge {{ cursor: String! node: {node}! }}")
        parts.append(f"type {node}Connection {{ edges: [{node}Edge!]! pageInfo: PageInfo! totalCount: Int! }}")
        query_fields.append(f"{field}(filter: {node}Filter, first: Int, after: String): {node}Connection!")
    parts.append("type Query {\n  " + "\n  ".join(query_fields) + "\n}")
    return "\n".join(parts)


def _parse_datetime(value):
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise GraphQLError(f"DateTime cannot represent {value!r}: use ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


SCHEMA = build_schema(_sdl())
_datetime = SCHEMA.type_map["DateTime"]
_datetime.serialize = lambda value: value.isoformat()
_datetime.parse_value = _parse_datetime
_datetime.parse_literal = lambda node, _variables=None: _parse_datetime(getattr(node, "value", None))


def _coerce(kind, value):
    if value is None:
        return None
    if kind == "ID":
        return str(value)
    return value


def _test(kind, value, op, arg):
    value = _coerce(kind, value)
    if op == "filled":
        return (value not in (None, "")) == arg
    if value is None:
        return False
    if op == "eq":
        return value == _coerce(kind, arg)
    if op == "in":
        return value in [_coerce(kind, a) for a in arg]
    if op in ("like", "ilike"):
        pattern = arg.replace("%", "*").replace("_", "?")
        return fnmatch.fnmatchcase(value.lower(), pattern.lower()) if op == "ilike" else \
            fnmatch.fnmatchcase(value, pattern)
    if op == "between":
        low, high = arg
        return low <= value <= high
    compare = {"gt": value.__gt__, "gteq": value.__ge__, "from": value.__ge__,
               "lt": value.__lt__, "lteq": value.__le__, "to": value.__le__}
    return compare[op](arg)


def _matches(filters, spec, node):
    for name, ops in (filters or {}).items():
        kind, getter = spec[name]
        values = getter(node)
        values = values if isinstance(values, list) else [values]
        if not any(all(_test(kind, v, op, arg) for op, arg in ops.items() if arg is not None) for v in values):
            return False
    return True


def _cursor(node_id):
    return base64.b64encode(f"id:{node_id}".encode()).decode()


def _after_id(cursor):
    try:
        kind, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except ValueError:
        raise GraphQLError(f"invalid cursor {cursor!r}") from None


def _connection_resolver(field):
    _, collection, spec = ROOTS[field]

    def resolve(info, filter=None, first=None, after=None):  # noqa: A002 (GraphQL argument name)
        if first is not None and first < 0:
            raise GraphQLError("first must not be negative")
        size = min(PAGE_MAX, PAGE_DEFAULT if first is None else first)
        nodes = sorted((n for n in collection(info.context) if _matches(filter, spec, n)), key=attrgetter("id"))
        total = len(nodes)
        if after:
            start = _after_id(after)
            nodes = [n for n in nodes if n.id > start]
        page = nodes[:size]
        return {
            "edges": [{"cursor": _cursor(n.id), "node": n} for n in page],
            "pageInfo": {
                "hasNextPage": len(nodes) > size, "hasPreviousPage": bool(after),
                "startCursor": _cursor(page[0].id) if page else None,
                "endCursor": _cursor(page[-1].id) if page else None,
            },
            "totalCount": total,
        }

    return resolve


ROOT = {field: _connection_resolver(field) for field in ROOTS}


@functools.lru_cache(maxsize=256)
def _document(query):
    """The parsed document of a query and its validation errors: a client sends the same few queries
    again and again, and parsing and validating each cost more than running it."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error]
    return document, validate(SCHEMA, document)


def execute(tenant, query, variables=None, operation_name=None):
    """Run one GraphQL request for a tenant; returns the response body as a dict."""
    document, errors = _document(query)
    if errors:
        return ExecutionResult(data=None, errors=errors).formatted
    result = execute_sync(SCHEMA, document, root_value=ROOT, context_value=tenant,
                          variable_values=variables, operation_name=operation_name)
    return result.formatted
