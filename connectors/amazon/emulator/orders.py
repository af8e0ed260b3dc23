"""What getOrders (v0) and searchOrders (2026-01-01) share: date windows, paging, status and PII rules."""

from __future__ import annotations

import copy
import datetime as dt
import secrets

from .state import parse_iso
from .web import invalid_input, not_found

# v0 OrderStatus -> 2026-01-01 FulfillmentStatus
STATUS_2026 = {
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Pending": "PENDING",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    "InvoiceUnconfirmed": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}
STATUS_V0 = {new: old for old, new in STATUS_2026.items() if old != "InvoiceUnconfirmed"}
V0_STATUSES = frozenset(STATUS_2026)

# Address fields anyone may read; the rest need an RDT (v0) or includedData=RECIPIENT (2026-01-01).
PUBLIC_ADDRESS_FIELDS = ("City", "County", "District", "StateOrRegion", "Municipality", "PostalCode", "CountryCode")
PUBLIC_BUYER_FIELDS = ("BuyerEmail",)
PAGE_TOKEN_TTL = dt.timedelta(hours=24)


def get_record(state, order_id):
    record = state.orders.get(order_id)
    if record is None:
        raise not_found(f"Order {order_id} was not found.", f"orderId: {order_id}")
    return record


def time_window(state, request, names):
    """Validate the created/lastUpdated window as Amazon does; return (order field, after, before).

    `names` maps "created_after", "created_before", "updated_after", "updated_before" to the API's
    parameter names. Exactly one `*After` is required, the two families do not mix, and `*Before`
    must not be earlier than `*After` and must be at least two minutes before now.
    """
    given = {key: request.arg(name) for key, name in names.items() if request.arg(name) is not None}
    created = {"created_after", "created_before"} & set(given)
    updated = {"updated_after", "updated_before"} & set(given)
    if created and updated:
        raise invalid_input(
            f"{names['created_after']}/{names['created_before']} cannot be combined with "
            f"{names['updated_after']}/{names['updated_before']}."
        )
    if "created_after" not in given and "updated_after" not in given:
        raise invalid_input(f"Exactly one of {names['created_after']} or {names['updated_after']} is required.")
    family = "created" if created else "updated"
    bounds = {}
    for edge in ("after", "before"):
        key = f"{family}_{edge}"
        if key in given:
            bounds[edge] = parse_iso(given[key])
            if bounds[edge] is None:
                raise invalid_input(f"{names[key]} must be an ISO 8601 date-time, got {given[key]!r}.")
    latest = state.now() - dt.timedelta(seconds=state.lag_seconds)
    before = bounds.get("before")
    if before is not None:
        if before < bounds["after"]:
            raise invalid_input(f"{names[family + '_before']} must be equal to or after {names[family + '_after']}.")
        if before > latest:
            raise invalid_input(
                f"{names[family + '_before']} must be at least 2 minutes before the time of the request."
            )
    else:
        before = latest
    if bounds["after"] > state.now():
        raise invalid_input(f"{names[family + '_after']} must not be in the future.")
    field = "PurchaseDate" if family == "created" else "LastUpdateDate"
    return field, bounds["after"], before


def select_orders(state, field, after, before, statuses=(), channels=(), marketplaces=(), order_ids=()):
    """Order ids in the window (by `field`), oldest first, filtered by v0 statuses, channels, marketplaces
    and, when given, a list of order ids (which then replaces the time window, as Amazon's AmazonOrderIds)."""
    chosen = []
    for record in state.orders.values():
        moment = parse_iso(record.order[field])
        if order_ids:
            if record.order_id not in order_ids:
                continue
        elif not after <= moment <= before:
            continue
        if marketplaces and record.order.get("MarketplaceId") not in marketplaces:
            continue
        if statuses and record.order["OrderStatus"] not in statuses:
            continue
        if channels and record.order.get("FulfillmentChannel") not in channels:
            continue
        chosen.append((moment, record.order_id))
    return [order_id for _, order_id in sorted(chosen)]


def list_arg(request, name, limit):
    """A list parameter of at most `limit` values (Amazon's maxItems), each non-empty."""
    values = request.arg_list(name)
    if len(values) > limit:
        raise invalid_input(f"{name} may list at most {limit} values, not {len(values)}.", name)
    if any(not value.strip() for value in values):
        raise invalid_input(f"{name} has an empty value.", name)
    return values


def page(state, kind, ids, size, extra):
    """One page of `ids` and the token for the rest (None on the last page)."""
    head, rest = ids[:size], ids[size:]
    token = None
    if rest:
        token = secrets.token_urlsafe(18)
        state.page_tokens[token] = (kind, rest, extra, state.now() + PAGE_TOKEN_TTL)
    return head, token


def resume(state, kind, token, name):
    """The remaining ids and the saved extras for a page token, or 400 when it is not valid."""
    saved = state.page_tokens.get(token)
    if saved is None or saved[0] != kind or saved[3] < state.now():
        raise invalid_input(f"{name} is invalid or has expired.", f"{name}: {token}")
    return saved[1], saved[2]


def public_order(record, granted=frozenset()):
    """The v0 Order dict a caller may see: restricted fields only for the data elements granted."""
    order = copy.deepcopy(record.order)
    address = order.get("ShippingAddress")
    if address is not None and "shippingAddress" not in granted:
        order["ShippingAddress"] = {key: address[key] for key in PUBLIC_ADDRESS_FIELDS if key in address}
    buyer = order.get("BuyerInfo")
    if buyer is not None and "buyerInfo" not in granted:
        order["BuyerInfo"] = {key: buyer[key] for key in PUBLIC_BUYER_FIELDS if key in buyer}
    if order["OrderStatus"] not in ("Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"):
        order.pop("ShippingAddress", None)
    return order


def refresh_status(state, record):
    """Recompute shipped/unshipped counts and the status after a confirmation; moves LastUpdateDate."""
    ordered = sum(item["QuantityOrdered"] for item in record.items)
    shipped = sum(item.get("QuantityShipped", 0) for item in record.items)
    order = record.order
    order["NumberOfItemsShipped"] = shipped
    order["NumberOfItemsUnshipped"] = ordered - shipped
    order["OrderStatus"] = "Shipped" if shipped >= ordered else ("PartiallyShipped" if shipped else "Unshipped")
    order["LastUpdateDate"] = state.stamp(state.now())
