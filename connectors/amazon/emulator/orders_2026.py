"""Orders API v2026-01-01: the same orders, camelCase, not wrapped, sections only when asked for."""

from __future__ import annotations

import re
from decimal import Decimal

from .orders import STATUS_2026, STATUS_V0, get_record, list_arg, page, resume, select_orders, time_window
from .web import Routes, json_response

routes = Routes()

WINDOW = {
    "created_after": "createdAfter",
    "created_before": "createdBefore",
    "updated_after": "lastUpdatedAfter",
    "updated_before": "lastUpdatedBefore",
}
INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}
ADDRESS_KEYS = {
    "Name": "name",
    "CompanyName": "companyName",
    "AddressLine1": "addressLine1",
    "AddressLine2": "addressLine2",
    "AddressLine3": "addressLine3",
    "City": "city",
    "County": "districtOrCounty",
    "District": "districtOrCounty",
    "StateOrRegion": "stateOrRegion",
    "Municipality": "municipality",
    "PostalCode": "postalCode",
    "CountryCode": "countryCode",
    "Phone": "phone",
}


def money(value):
    return {"amount": value["Amount"], "currencyCode": value["CurrencyCode"]}


def amount(value):
    return Decimal(value["Amount"]) if value else Decimal("0")


def snake_upper(text):
    """`NextDay` -> `NEXT_DAY`, `Residential` -> `RESIDENTIAL`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).upper()


def delivery_address(address):
    result = {ADDRESS_KEYS[key]: value for key, value in address.items() if key in ADDRESS_KEYS}
    if address.get("AddressType"):
        result["addressType"] = snake_upper(address["AddressType"])
    return result


def window(earliest, latest):
    result = {}
    if earliest:
        result["earliestDateTime"] = earliest
    if latest:
        result["latestDateTime"] = latest
    return result


def pending(order):
    """A pending order (payment not yet authorised): Amazon shows no address, prices or promotions yet."""
    return order["OrderStatus"] in ("Pending", "PendingAvailability")


def item_2026(item, order, included):
    quantity = item["QuantityOrdered"]
    currency = (item.get("ItemPrice") or order.get("OrderTotal") or {}).get("CurrencyCode", "GBP")
    product = {"asin": item["ASIN"], "title": item.get("Title", ""), "sellerSku": item.get("SellerSKU", "")}
    product["condition"] = {"conditionType": snake_upper(item.get("ConditionId", "New"))}
    priced = not pending(order)
    if priced and item.get("ItemPrice") and quantity:
        unit = amount(item["ItemPrice"]) / quantity
        product["price"] = {"unitPrice": {"amount": f"{unit:.2f}", "currencyCode": currency}}
    result = {"orderItemId": item["OrderItemId"], "quantityOrdered": quantity, "product": product}
    if "PROCEEDS" in included and priced and item.get("ItemPrice"):
        def money_of(value):
            return {"amount": f"{value:.2f}", "currencyCode": currency}

        item_tax, shipping_tax = amount(item.get("ItemTax")), amount(item.get("ShippingTax"))
        parts = [("ITEM", amount(item.get("ItemPrice"))), ("SHIPPING", amount(item.get("ShippingPrice"))),
                 ("TAX", item_tax + shipping_tax)]
        discount = amount(item.get("PromotionDiscount")) + amount(item.get("ShippingDiscount"))
        parts.append(("DISCOUNT", -discount))
        breakdowns = [{"type": kind, "subtotal": money_of(value)} for kind, value in parts if value]
        for breakdown in breakdowns:
            if breakdown["type"] == "TAX":  # Amazon details TAX (and DISCOUNT) by what it was charged on
                breakdown["detailedBreakdowns"] = [
                    {"subtype": subtype, "value": money_of(value)}
                    for subtype, value in (("ITEM", item_tax), ("SHIPPING", shipping_tax)) if value]
        # UK prices include VAT: the TAX breakdown details the VAT inside ITEM and SHIPPING, so the total
        # leaves it out (Amazon does not document which; counting it twice is the one reading ruled out).
        total = sum((value for kind, value in parts if kind != "TAX"), Decimal("0"))
        result["proceeds"] = {"proceedsTotal": money_of(total), "breakdowns": breakdowns}
    if "PROMOTION" in included and priced and item.get("PromotionIds"):
        result["promotion"] = {"breakdowns": [{"promotionId": pid} for pid in item["PromotionIds"]]}
    cancel = item.get("BuyerRequestedCancel") or {}
    if "CANCELLATION" in included and str(cancel.get("IsBuyerRequestedCancel")).lower() == "true":
        request = {"requester": "BUYER", "cancelReason": cancel.get("BuyerCancelReason", "")}
        result["cancellation"] = {"cancellationRequest": request}
    if "FULFILLMENT" in included:
        shipped = item.get("QuantityShipped", 0)
        result["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": quantity - shipped}
    return result


def package_2026(package):
    return {
        "packageReferenceId": str(package["packageReferenceId"]),
        "packageStatus": {"status": "SHIPPED"},
        "carrier": package.get("carrierName") or package["carrierCode"],
        "shipTime": package["shipDate"],
        "shippingService": package.get("shippingMethod", ""),
        "trackingNumber": package["trackingNumber"],
        "packageItems": [
            {"orderItemId": str(line["orderItemId"]), "quantity": line["quantity"]} for line in package["orderItems"]
        ],
    }


def order_2026(record, included):
    """Render one stored order in the 2026-01-01 shape, with only the sections in `included`."""
    order = record.order
    result = {"orderId": order["AmazonOrderId"]}
    if order.get("SellerOrderId"):
        result["orderAliases"] = [{"aliasId": order["SellerOrderId"], "aliasType": "SELLER_ORDER_ID"}]
    result["createdTime"] = order["PurchaseDate"]
    result["lastUpdatedTime"] = order["LastUpdateDate"]
    flags = (("IsPrime", "PRIME"), ("IsBusinessOrder", "AMAZON_BUSINESS"), ("IsPremiumOrder", "PREMIUM"))
    programs = [name for flag, name in flags if order.get(flag)]
    if programs:
        result["programs"] = programs
    result["salesChannel"] = {
        "channelName": "AMAZON",
        "marketplaceId": order.get("MarketplaceId", ""),
        "marketplaceName": order.get("SalesChannel", ""),
    }
    buyer = order.get("BuyerInfo") or {}
    if "BUYER" in included and buyer:
        keys = {"BuyerName": "buyerName", "BuyerEmail": "buyerEmail", "PurchaseOrderNumber": "buyerPurchaseOrderNumber"}
        result["buyer"] = {new: buyer[old] for old, new in keys.items() if buyer.get(old)}
    if "RECIPIENT" in included and order.get("ShippingAddress") and not pending(order):
        result["recipient"] = {"deliveryAddress": delivery_address(order["ShippingAddress"])}
    if "PROCEEDS" in included and order.get("OrderTotal") and not pending(order):
        result["proceeds"] = {"grandTotal": money(order["OrderTotal"])}
    if "FULFILLMENT" in included:
        fulfillment = {
            "fulfillmentStatus": STATUS_2026[order["OrderStatus"]],
            "fulfilledBy": "AMAZON" if order.get("FulfillmentChannel") == "AFN" else "MERCHANT",
        }
        if order.get("ShipmentServiceLevelCategory"):
            fulfillment["fulfillmentServiceLevel"] = snake_upper(order["ShipmentServiceLevelCategory"])
        ship_by = window(order.get("EarliestShipDate"), order.get("LatestShipDate"))
        deliver_by = window(order.get("EarliestDeliveryDate"), order.get("LatestDeliveryDate"))
        if ship_by:
            fulfillment["shipByWindow"] = ship_by
        if deliver_by:
            fulfillment["deliverByWindow"] = deliver_by
        result["fulfillment"] = fulfillment
    result["orderItems"] = [item_2026(item, order, included) for item in record.items]
    if "PACKAGES" in included:
        result["packages"] = [package_2026(package) for package in record.packages]
    return result


def included_data(request):
    return set(request.arg_choices("includedData", INCLUDED_DATA))


@routes.add("GET", r"/orders/2026-01-01/orders", "searchOrders")
def search_orders(state, request):
    token = request.arg("paginationToken")
    with state.lock:
        if token:
            ids, (size, included, bound_name, bound) = resume(state, "searchOrders", token, "paginationToken")
        else:
            included = included_data(request)
            field, after, before = time_window(state, request, WINDOW)
            wanted = request.arg_choices("fulfillmentStatuses", STATUS_V0)
            statuses = [STATUS_V0[status] for status in wanted]
            if "SHIPPED" in wanted:
                statuses.append("InvoiceUnconfirmed")
            channels = [{"MERCHANT": "MFN", "AMAZON": "AFN"}[who]
                        for who in request.arg_choices("fulfilledBy", ("MERCHANT", "AMAZON"))]
            marketplaces = list_arg(request, "marketplaceIds", 50)
            size = request.arg_int("maxResultsPerPage", 100, 1, 100)
            ids = select_orders(state, field, after, before, statuses, channels, marketplaces)
            bound_name = "createdBefore" if field == "PurchaseDate" else "lastUpdatedBefore"
            bound = state.stamp(before)
        head, next_token = page(state, "searchOrders", ids, size, (size, included, bound_name, bound))
        orders = [order_2026(state.orders[order_id], included) for order_id in head if order_id in state.orders]
    body = {"orders": orders, bound_name: bound}
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return json_response(200, body)


@routes.add("GET", r"/orders/2026-01-01/orders/(?P<order_id>[^/]+)", "getOrder2026")
def get_order(state, request):
    included = included_data(request)
    with state.lock:
        order = order_2026(get_record(state, request.params["order_id"]), included)
    return json_response(200, {"order": order})
