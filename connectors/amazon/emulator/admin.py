"""`/_emulator/...`: seed data, switch faults and read what Amazon recorded, from another process.

POST /_emulator/reset                              forget everything (credentials and tokens stay)
GET|POST /_emulator/faults                         read / change Faults (JSON of its fields)
POST /_emulator/faults/script {"operation", "faults"}   the next calls of an operation fail so (connectors.faults)
POST /_emulator/faults/random {"rates", "seed", "operations"?}  seeded random faults; GET .../fired: what fired
POST /_emulator/clock {"advance_seconds": n}       move the emulator's now forward
POST /_emulator/orders <getOrders|searchOrders>    load orders in Amazon's own JSON
POST /_emulator/orders/generate {"count": n}       a demo stream; without count, one order from
                                                   make_order options (status, items, is_prime, ...)
POST /_emulator/orders/{id}/cancel {"reason"?}     Amazon cancels the order
GET  /_emulator/orders/{id}/confirmations          packages accepted by confirmShipment
POST /_emulator/listings {"sku", "quantity", "handling_days", "product_type"};  GET /_emulator/listings/{sku}
POST /_emulator/reports {"text", "created"?}       publish a settlement report (gzipped for download)
GET  /_emulator/requests                           SP-API calls seen, with their status
"""

from __future__ import annotations

import copy

from .generator import generate, make_order
from .listings import add_listing, listing_view
from .orders import get_record
from .reports import add_settlement_report
from .seeding import cancel_order, load_orders
from .web import Routes, empty_response, invalid_input, json_response, not_found

routes = Routes()

ORDER_PATH = r"/_emulator/orders/(?P<order_id>[^/]+)"


def confirmations(state, order_id):
    """The packageDetail dicts Amazon accepted for an order, oldest first."""
    with state.lock:
        return copy.deepcopy(get_record(state, order_id).packages)


def checked(action):
    """Run an admin action; a ValueError becomes a 400 that says what was wrong."""
    try:
        return action()
    except (ValueError, TypeError) as exc:
        raise invalid_input(str(exc)) from None


@routes.add("POST", r"/_emulator/reset")
def reset(state, request):
    state.reset()
    return empty_response()


@routes.add("GET", r"/_emulator/faults")
def read_faults(state, request):
    return json_response(200, vars(state.faults))


@routes.add("POST", r"/_emulator/faults")
def set_faults(state, request):
    changes = request.json()
    checked(lambda: state.set_faults(**changes))
    return json_response(200, vars(state.faults))


@routes.add("POST", r"/_emulator/faults/script")
def script_faults(state, request):
    body = request.json()
    checked(lambda: state.fault_plan.script(body.get("operation", ""), *body.get("faults", [])))
    return json_response(200, {"pending": state.fault_plan.pending(body.get("operation"))})


@routes.add("POST", r"/_emulator/faults/random")
def random_faults(state, request):
    body = request.json()
    checked(lambda: state.fault_plan.randomly(body.get("rates", {}), seed=body.get("seed", 0),
                                              operations=body.get("operations")))
    return json_response(200, {"seed": state.fault_plan.seed})


@routes.add("GET", r"/_emulator/faults/fired")
def fired_faults(state, request):
    return json_response(200, {"fired": [list(entry) for entry in state.fault_plan.fired],
                               "seed": state.fault_plan.seed})


@routes.add("POST", r"/_emulator/clock")
def advance_clock(state, request):
    seconds = request.json().get("advance_seconds")
    if not isinstance(seconds, (int, float)):
        raise invalid_input("advance_seconds must be a number.")
    state.advance_clock(seconds)
    return json_response(200, {"now": state.now().isoformat()})


@routes.add("POST", r"/_emulator/orders")
def load(state, request):
    ids = checked(lambda: load_orders(state, request.json()))
    return json_response(201, {"orderIds": ids})


@routes.add("POST", r"/_emulator/orders/generate")
def generate_orders(state, request):
    body = request.json()
    if "count" in body:
        count = body["count"]
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            raise invalid_input("count must be a whole number from 1 to 10000.")
        return json_response(201, {"orderIds": generate(state, count)})
    return json_response(201, {"orderIds": [checked(lambda: make_order(state, **body))]})


@routes.add("POST", ORDER_PATH + r"/cancel")
def cancel(state, request):
    reason = request.json().get("reason", "BuyerCanceled") if request.body else "BuyerCanceled"
    with state.lock:
        get_record(state, request.params["order_id"])
        checked(lambda: cancel_order(state, request.params["order_id"], reason))
    return empty_response()


@routes.add("GET", ORDER_PATH + r"/confirmations")
def read_confirmations(state, request):
    return json_response(200, {"packages": confirmations(state, request.params["order_id"])})


@routes.add("POST", r"/_emulator/listings")
def create_listing(state, request):
    body = request.json()
    if not body.get("sku"):
        raise invalid_input("sku is required.")
    checked(lambda: add_listing(state, **body))
    return json_response(201, listing_view(state, body["sku"]))


@routes.add("GET", r"/_emulator/listings/(?P<sku>[^/]+)")
def read_listing(state, request):
    view = listing_view(state, request.params["sku"])
    if view is None:
        raise not_found(f"No listing with SKU {request.params['sku']}.")
    return json_response(200, view)


@routes.add("POST", r"/_emulator/reports")
def create_settlement_report(state, request):
    body = request.json()
    if not isinstance(body.get("text"), str) or not body["text"]:
        raise invalid_input("text (the settlement report's tab-separated content) is required.")
    report_id = checked(lambda: add_settlement_report(state, body["text"], body.get("created")))
    return json_response(201, {"reportId": report_id})


@routes.add("GET", r"/_emulator/requests")
def read_requests(state, request):
    with state.lock:
        seen = [{"method": m, "path": p, "status": s} for m, p, s in state.requests]
    return json_response(200, {"requests": seen})
