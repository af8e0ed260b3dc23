"""Orders API v0 reads: PascalCase, wrapped in `payload`."""

from __future__ import annotations

import copy
import datetime as dt

from .auth import restricted_elements
from .orders import V0_STATUSES, get_record, list_arg, page, public_order, resume, select_orders, time_window
from .web import Routes, invalid_input, json_response

routes = Routes()

V0_WINDOW = {
    "created_after": "CreatedAfter",
    "created_before": "CreatedBefore",
    "updated_after": "LastUpdatedAfter",
    "updated_before": "LastUpdatedBefore",
}
ORDER_PATH = r"/orders/v0/orders/(?P<order_id>[^/]+)"
# getOrderItems pages with NextToken; Amazon does not document the page size, so the emulator takes
# a small one (10 items) to make every caller that ignores NextToken lose lines in tests.
ORDER_ITEMS_PAGE = 10
# While an order is Pending, getOrderItems leaves out pricing, taxes and promotions.
PRICE_FIELDS = (
    "ItemPrice",
    "ShippingPrice",
    "ItemTax",
    "ShippingTax",
    "ShippingDiscount",
    "ShippingDiscountTax",
    "PromotionDiscount",
    "PromotionDiscountTax",
    "PromotionIds",
    "CODFee",
    "CODFeeDiscount",
)


def granted(request):
    return restricted_elements(request.token, request.method, request.path)


@routes.add("GET", r"/orders/v0/orders", "getOrders")
def get_orders(state, request):
    next_token = request.arg("NextToken")
    with state.lock:
        if next_token:
            ids, (size, bound_name, bound) = resume(state, "getOrders", next_token, "NextToken")
        else:
            marketplaces = list_arg(request, "MarketplaceIds", 50)
            if not marketplaces:
                raise invalid_input("MarketplaceIds is required.")
            order_ids = list_arg(request, "AmazonOrderIds", 50)
            if order_ids:  # the order ids replace the time window, which may then be left out
                field, after, before = "LastUpdateDate", None, state.now() - dt.timedelta(seconds=state.lag_seconds)
            else:
                field, after, before = time_window(state, request, V0_WINDOW)
            statuses = request.arg_choices("OrderStatuses", V0_STATUSES)
            size = request.arg_int("MaxResultsPerPage", 100, 1, 100)
            channels = request.arg_choices("FulfillmentChannels", ("MFN", "AFN"))
            ids = select_orders(state, field, after, before, statuses, channels, marketplaces, set(order_ids))
            bound_name = "CreatedBefore" if field == "PurchaseDate" else "LastUpdatedBefore"
            bound = state.stamp(before)
        head, token = page(state, "getOrders", ids, size, (size, bound_name, bound))
        elements = granted(request)
        orders = [public_order(state.orders[order_id], elements) for order_id in head if order_id in state.orders]
    payload = {"Orders": orders, bound_name: bound}
    if token:
        payload["NextToken"] = token
    return json_response(200, {"payload": payload})


@routes.add("GET", ORDER_PATH, "getOrder")
def get_order(state, request):
    with state.lock:
        order = public_order(get_record(state, request.params["order_id"]), granted(request))
    return json_response(200, {"payload": order})


@routes.add("GET", ORDER_PATH + r"/orderItems", "getOrderItems")
def get_order_items(state, request):
    order_id = request.params["order_id"]
    next_token = request.arg("NextToken")
    with state.lock:
        record = get_record(state, order_id)
        if next_token:
            positions, _ = resume(state, f"getOrderItems:{record.order_id}", next_token, "NextToken")
        else:
            positions = list(range(len(record.items)))
        head, token = page(state, f"getOrderItems:{record.order_id}", positions, ORDER_ITEMS_PAGE, None)
        items = [copy.deepcopy(record.items[position]) for position in head]
        pending = record.order["OrderStatus"] in ("Pending", "PendingAvailability")
    if pending:
        for item in items:
            for key in PRICE_FIELDS:
                item.pop(key, None)
    if "buyerInfo" not in granted(request):
        for item in items:
            item.pop("BuyerInfo", None)
    payload = {"AmazonOrderId": record.order_id, "OrderItems": items}
    if token:
        payload["NextToken"] = token
    return json_response(200, {"payload": payload})


@routes.add("GET", ORDER_PATH + r"/address", "getOrderAddress")
def get_order_address(state, request):
    with state.lock:
        order = public_order(get_record(state, request.params["order_id"]), granted(request))
    payload = {"AmazonOrderId": order["AmazonOrderId"]}
    if "ShippingAddress" in order:
        payload["ShippingAddress"] = order["ShippingAddress"]
    return json_response(200, {"payload": payload})


@routes.add("GET", ORDER_PATH + r"/buyerInfo", "getOrderBuyerInfo")
def get_order_buyer_info(state, request):
    with state.lock:
        order = public_order(get_record(state, request.params["order_id"]), granted(request))
    return json_response(200, {"payload": {"AmazonOrderId": order["AmazonOrderId"], **order.get("BuyerInfo", {})}})
