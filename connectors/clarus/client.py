"""Clarus WMS as the hub's back office: sales orders as goods-outs, dispatches, stock, items, ship methods.

Connection (a `BackOfficeConnection` of kind clarus):
    endpoint   base URL of the API, e.g. https://clarus-api.com (the emulator: http://127.0.0.1:8200)
    username   OAuth client id of a dedicated API user
    secret     its client secret
    options    a JSON object (key, default, meaning):
      subdomain               required   the tenant, sent as X-Clarus-Subdomain on every call
      account_id              required   the stock owner (Clarus "Account") orders and stock belong to
      warehouse_id            required   the warehouse orders ship from and stock is read in
      timeout                 30         seconds to wait for one HTTP reply
      retries                 2          extra quick tries of a read after a transient failure
      retry_backoff           1.0        seconds; the n-th retry waits n times this
      page_size               100        GraphQL `first` per page [I: the real page cap is undocumented]
      api_prefix              "/api"     or "/api/v1" (the docs show both)
      ship_method_field       "name"     the carrier-service field that is the hub's ship method ("name"/"code")
      cancelled_status        "CANCELLED"               goods-out status code of a cancelled order [I]
      cancel_path             "goods_outs/{id}/cancel"  REST path that cancels a goods-out [I]
      tracking_on             "package"  where tracking numbers sit: "package" (falling back to the
                                         shipment's) or "shipment" (one number for every package) [I]
      dispatch_page_limit     500        the most dispatches one list_dispatches call returns
      dispatch_lookback_days  7          how far back the first poll (empty cursor) reads dispatches

Orders carry the Amazon order id as `reference` and `external_system_reference1`; the goods-out id
(a string, as GraphQL gives it) is the back-office reference. Clarus has no general ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from connectors.base import (
    BackOffice,
    ConnectorError,
    DispatchPage,
    Item,
    NotInBackOffice,
    SalesOrderStatus,
    ShipMethod,
    StockRecord,
)
from connectors.clarus import queries
from connectors.clarus.transport import ClarusTransport

logger = logging.getLogger(__name__)

DISPATCHED_STATUS = "COMPLETED"
NO_LEDGER = "Clarus WMS has no general ledger; download the journal instead"
# What prepare_creates found for a reference is used by a create this soon after, else asked again: a batch
# of creates takes a second or two, and only the hub's worker holding the order creates it meanwhile.
LOOK_AHEAD_SECONDS = 30


class ClarusBackOffice(BackOffice):
    """Clarus WMS over REST (JSON:API) writes and GraphQL reads."""

    def __init__(self, connection):
        super().__init__(connection)
        self.transport = ClarusTransport(connection)
        self.options = self.transport.options
        self._services = None
        self._products = {}  # product code -> Clarus product id
        self._ahead = {}  # reference -> (monotonic deadline, goods-out or None), from prepare_creates

    # ---- reads ---------------------------------------------------------------------------

    def test_connection(self):
        services = self._carrier_services()
        return f"Clarus WMS tenant {self.options.subdomain}: reached, {len(services)} carrier services"

    def get_sales_order_status(self, amazon_order_id):
        order = self._find_goods_out(amazon_order_id)
        if order is None:
            return None
        code = order["goods_out_status"]["code"]
        return SalesOrderStatus(amazon_order_id=amazon_order_id, back_office_ref=str(order["id"]), status=code,
                                cancelled=code == self.options.cancelled_status,
                                dispatched=code == DISPATCHED_STATUS)

    def list_dispatches(self, cursor=""):
        """Dispatched shipments after the cursor, oldest first.

        The cursor is "<dispatch time ISO 8601>|<shipment id>". Ids alone are not enough: a
        shipment is created when it is booked and dispatched later, so ids do not follow dispatch
        order. Time alone is not enough either: several shipments can share a dispatch time. The
        pair is a strict order, so nothing is skipped or listed twice. The server filters on the
        time (gteq) and the connector sorts and compares the pairs itself, since the order Clarus
        returns pages in is undocumented.
        """
        since, last_id = _parse_cursor(cursor)
        if since is None:  # first poll: recent dispatches only, not the tenant's whole history
            since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.options.dispatch_lookback_days)
        variables = {**self._scope(), "since": since.isoformat()}
        nodes = self.transport.nodes("list_shipments", "shipments", queries.SHIPMENTS_SINCE, variables,
                                     correlation_id=cursor)
        dispatches = sorted((d for d in map(self._dispatch, nodes) if (d.shipped_at, int(d.dispatch_ref)) >
                             (since, last_id)), key=lambda d: (d.shipped_at, int(d.dispatch_ref)))
        dispatches = dispatches[:self.options.dispatch_page_limit]
        if dispatches:
            last = dispatches[-1]
            cursor = f"{last.shipped_at.isoformat()}|{last.dispatch_ref}"
        return DispatchPage(dispatches=dispatches, cursor=cursor)

    def dispatches_for_goods_out(self, goods_out_id):
        """The dispatched shipments of one goods-out, read fresh (the webhook fast path)."""
        nodes = self.transport.nodes("goods_out_shipments", "shipments", queries.SHIPMENTS_OF_GOODS_OUT,
                                     {**self._scope(), "goods_out": str(goods_out_id)},
                                     correlation_id=str(goods_out_id))
        return [self._dispatch(node) for node in nodes]

    def dispatches_for_order(self, amazon_order_id):
        goods_out = self._find_goods_out(amazon_order_id)
        if goods_out is None:
            return []
        return [d for d in self.dispatches_for_goods_out(goods_out["id"]) if d.amazon_order_id == amazon_order_id]

    def get_stock(self, item_codes=None):
        """Balances of the connection's account in its warehouse. On hand = available + allocated;
        held stock is in neither (stock_balances documents no held or on-hand figure)."""
        if item_codes is not None and not item_codes:
            return []
        query, variables = queries.STOCK_BALANCES, self._scope()
        if item_codes is not None:
            query, variables = queries.STOCK_BALANCES_FOR_CODES, {**variables, "codes": list(item_codes)}
        measured_at = dt.datetime.now(dt.timezone.utc)
        return [
            StockRecord(item_code=node["product"]["code"], warehouse=node["warehouse"]["code"],
                        on_hand=node["available"] + node["allocated"], allocated=node["allocated"],
                        available=node["available"], measured_at=measured_at)
            for node in self.transport.nodes("stock_balances", "stock_balances", query, variables,
                                             correlation_id=",".join(item_codes or ["all"]))
        ]

    def list_items(self):
        nodes = self.transport.nodes("list_products", "products", queries.PRODUCTS,
                                     {"account": str(self.options.account_id)})
        return [Item(item_code=node["code"], description=node.get("description") or "") for node in nodes]

    def list_ship_methods(self):
        return [ShipMethod(code=service[self.options.ship_method_field],
                           description=f"{service['carrier']['name']} ({service['carrier']['code']}/{service['code']})")
                for service in self._carrier_services() if service["active"]]

    # ---- writes --------------------------------------------------------------------------

    def prepare_creates(self, amazon_order_ids):
        """Look for the goods-outs of a batch about to be created in one query; each create in the next
        LOOK_AHEAD_SECONDS uses the answer for its reference once instead of asking again."""
        self._ahead = {}  # only this batch's answers: an older one may be stale by now
        references = sorted(set(amazon_order_ids))
        if not references:
            return
        nodes = self.transport.nodes("find_goods_outs", "goods_outs", queries.GOODS_OUTS_BY_REFERENCES,
                                     {"references": references, "account": str(self.options.account_id)},
                                     correlation_id=f"{references[0]} and {len(references) - 1} more")
        found = {reference: [] for reference in references}
        for node in nodes:
            found.setdefault(node["reference"], []).append(node)
        until = time.monotonic() + LOOK_AHEAD_SECONDS
        self._ahead = {reference: (until, self._latest(found[reference])) for reference in references}

    def create_sales_order(self, order):
        """Create the goods-out unless one with this reference exists (a retry after a lost reply)."""
        _check_order(order)
        ahead = self._ahead.pop(order.amazon_order_id, None)
        if ahead is not None and ahead[0] > time.monotonic():
            existing = ahead[1]  # read with the batch a moment ago (prepare_creates)
        else:
            existing = self._find_goods_out(order.amazon_order_id)
        if existing is not None:
            logger.info("Clarus goods out %s exists for %s; not creating another", existing["id"],
                        order.amazon_order_id)
            return str(existing["id"])
        service = self._service_for(order.ship_method)
        product_ids = self._product_ids([line.item_code for line in order.lines], order.amazon_order_id)
        body = _goods_out_body(order, self.options, service, product_ids)
        created = self.transport.rest("POST", "goods_outs", "create_goods_out",
                                      correlation_id=order.amazon_order_id, body=body)
        return str(created["data"]["id"])

    def cancel_sales_order(self, amazon_order_id):
        order = self._find_goods_out(amazon_order_id)
        if order is None:
            raise NotInBackOffice(f"Clarus has no goods out with reference {amazon_order_id} to cancel")
        code = order["goods_out_status"]["code"]
        if code == self.options.cancelled_status:
            return
        if code == DISPATCHED_STATUS:
            raise ConnectorError(f"Clarus goods out {order['id']} for {amazon_order_id} is already dispatched; "
                                 "it cannot be cancelled", permanent=True)
        self.transport.rest("POST", self.options.cancel_path.format(id=order["id"]), "cancel_goods_out",
                            correlation_id=amazon_order_id)

    def post_journal(self, journal):
        raise ConnectorError(NO_LEDGER, permanent=True, code="no_ledger")

    # ---- helpers -------------------------------------------------------------------------

    def _scope(self):
        return {"account": str(self.options.account_id), "warehouse": str(self.options.warehouse_id)}

    def _dispatch(self, node):
        return queries.dispatch_from_shipment(node, ship_method_field=self.options.ship_method_field,
                                              tracking_on=self.options.tracking_on)

    def _find_goods_out(self, reference):
        """The goods-out for an Amazon order: a live one if any, else the latest (cancelled) one."""
        return self._latest(self.transport.nodes("find_goods_out", "goods_outs", queries.GOODS_OUTS_BY_REFERENCE,
                                                 {"reference": reference, "account": str(self.options.account_id)},
                                                 correlation_id=reference))

    def _latest(self, nodes):
        """Of the goods-outs of one reference: a live one if any, else the latest (cancelled) one."""
        nodes = sorted(nodes, key=lambda node: (node["goods_out_status"]["code"] != self.options.cancelled_status,
                                                int(node["id"])))
        return nodes[-1] if nodes else None

    def _carrier_services(self):
        if self._services is None:
            self._services = list(self.transport.nodes("list_carrier_services", "carrier_services",
                                                       queries.CARRIER_SERVICES, {}))
        return self._services

    def _service_for(self, ship_method):
        field = self.options.ship_method_field
        services = [s for s in self._carrier_services() if s["active"]]
        for service in services:
            if service[field] == ship_method:
                return service
        known = ", ".join(sorted(s[field] for s in services))
        raise ConnectorError(f"ship method {ship_method!r} is not an active Clarus carrier service "
                             f"{field} (known: {known})", permanent=True, code="unknown_ship_method")

    def _product_ids(self, codes, correlation_id):
        """Clarus product ids by code; ids found are remembered (a product keeps its id), so a busy
        connector asks only about codes it has not seen."""
        unknown = sorted(set(codes) - set(self._products))
        if unknown:
            nodes = self.transport.nodes("find_products", "products", queries.PRODUCTS_BY_CODE,
                                         {"codes": unknown, "account": str(self.options.account_id)},
                                         correlation_id=correlation_id)
            self._products.update({node["code"]: int(node["id"]) for node in nodes})
        ids = {code: self._products[code] for code in codes if code in self._products}
        missing = [code for code in codes if code not in ids]
        if missing:
            raise ConnectorError(
                f"unknown item {', '.join(missing)}: Clarus products query found no product with code "
                f"{', '.join(missing)} for account {self.options.account_id}", permanent=True, code="unknown_item")
        return ids


def _check_order(order):
    problems = []
    if not order.lines:
        problems.append("it has no lines")
    problems += [f"line {line.line_ref} has quantity {line.quantity}" for line in order.lines if line.quantity <= 0]
    problems += [f"line {line.line_ref} has no item code" for line in order.lines if not line.item_code]
    if problems:
        raise ConnectorError(f"order {order.amazon_order_id} cannot go to Clarus: " + "; ".join(problems),
                             permanent=True, code="invalid_order")


def _goods_out_body(order, options, service, product_ids):
    """The JSON:API create body: a sales-order goods-out with ADD lines and the delivery address."""
    address = order.address
    first_line = ", ".join(part for part in (address.company, address.line1) if part)
    attributes = {
        "goods_out_type": "sales_order",
        "reference": order.amazon_order_id,
        "external_system_reference1": order.amazon_order_id,
        "account_id": options.account_id,
        "warehouse_id": options.warehouse_id,
        "carrier_id": int(service["carrier"]["id"]),
        "carrier_service_id": int(service["id"]),
        "lines_changes": [
            {"type": "ADD", "attributes": {"product_id": product_ids[line.item_code], "order_quantity": line.quantity,
                                           "alt_line_number": number, "alt_line_reference": line.line_ref}}
            for number, line in enumerate(order.lines, start=1)
        ],
    }
    if order.ship_by:
        attributes["expected_date_of_dispatch"] = order.ship_by.date().isoformat()
    return {"data": {"type": "goods_outs", "attributes": attributes, "relationships": {"address": {"data": {
        "type": "addresses",
        "attributes": {
            "name": address.name, "address_1": first_line,
            "address_2": ", ".join(part for part in (address.line2, address.line3) if part),
            "address_3": address.city, "address_4": address.county, "postcode": address.postcode,
            "country_code": address.country_code.upper(), "email_address": address.email,
            "phone_number": address.phone,
        },
    }}}}}


def _parse_cursor(cursor):
    if not cursor:
        return None, 0
    moment, _, last_id = cursor.rpartition("|")
    try:
        return queries.parse_time(moment), int(last_id)
    except (ConnectorError, ValueError):
        raise ConnectorError(f"invalid Clarus dispatch cursor {cursor!r}: expected '<ISO time>|<shipment id>'",
                             permanent=True) from None
