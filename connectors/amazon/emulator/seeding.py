"""Put orders into the emulator from Amazon's own JSON (getOrders or searchOrders responses)."""

from __future__ import annotations

import copy
from decimal import Decimal

from .orders import STATUS_V0, V0_STATUSES, get_record
from .sqs import order_change
from .state import OrderRecord, parse_iso

V0_REQUIRED = ("AmazonOrderId", "PurchaseDate", "LastUpdateDate", "OrderStatus")
ITEM_REQUIRED = ("ASIN", "OrderItemId", "QuantityOrdered")
ADDRESS_KEYS = {
    "name": "Name",
    "companyName": "CompanyName",
    "addressLine1": "AddressLine1",
    "addressLine2": "AddressLine2",
    "addressLine3": "AddressLine3",
    "city": "City",
    "districtOrCounty": "County",
    "stateOrRegion": "StateOrRegion",
    "municipality": "Municipality",
    "postalCode": "PostalCode",
    "countryCode": "CountryCode",
    "phone": "Phone",
}


def camel(text):
    """`NEXT_DAY` -> `NextDay`."""
    return "".join(part.capitalize() for part in text.split("_"))


def v0_money(value):
    return {"CurrencyCode": value["currencyCode"], "Amount": value["amount"]}


def records_from_response(response):
    """OrderRecords from a getOrders (v0, items optional as `OrderItems`) or searchOrders/getOrder (2026) dict.

    Raises ValueError naming the first bad order; nothing is half-read.
    """
    if not isinstance(response, dict):
        raise ValueError("expected a JSON object shaped like a getOrders or searchOrders response")
    body = response.get("payload", response)
    if isinstance(body, dict) and isinstance(body.get("Orders"), list):
        return [v0_record(order, f"Orders[{index}]") for index, order in enumerate(body["Orders"])]
    if isinstance(body.get("orders"), list):
        return [record_from_2026(order, f"orders[{index}]") for index, order in enumerate(body["orders"])]
    if isinstance(body.get("order"), dict):
        return [record_from_2026(body["order"], "order")]
    raise ValueError("no orders found: expected payload.Orders (getOrders) or orders (searchOrders)")


def v0_record(order, where):
    if not isinstance(order, dict):
        raise ValueError(f"{where}: an order must be a JSON object")
    for key in V0_REQUIRED:
        if not order.get(key):
            raise ValueError(f"{where}: {key} is missing")
    if order["OrderStatus"] not in V0_STATUSES:
        raise ValueError(f"{where}: OrderStatus {order['OrderStatus']!r} is not an Amazon order status")
    for key in ("PurchaseDate", "LastUpdateDate"):
        if parse_iso(order[key]) is None:
            raise ValueError(f"{where}: {key} {order[key]!r} is not an ISO 8601 date-time")
    order = copy.deepcopy(order)
    items = order.pop("OrderItems", [])
    for index, item in enumerate(items):
        for key in ITEM_REQUIRED:
            if item.get(key) in (None, ""):
                raise ValueError(f"{where}.OrderItems[{index}]: {key} is missing")
        item.setdefault("QuantityShipped", 0)
    if items:
        ordered = sum(item["QuantityOrdered"] for item in items)
        shipped = sum(item["QuantityShipped"] for item in items)
        order.setdefault("NumberOfItemsShipped", shipped)
        order.setdefault("NumberOfItemsUnshipped", ordered - shipped)
    return OrderRecord(order=order, items=items)


def record_from_2026(order, where):
    """Translate a 2026-01-01 Order into the stored v0 form."""
    if not isinstance(order, dict):
        raise ValueError(f"{where}: an order must be a JSON object")
    for key in ("orderId", "createdTime", "lastUpdatedTime"):
        if not order.get(key):
            raise ValueError(f"{where}: {key} is missing")
    fulfillment = order.get("fulfillment") or {}
    status = fulfillment.get("fulfillmentStatus", "UNSHIPPED")
    if status not in STATUS_V0:
        raise ValueError(f"{where}: fulfillmentStatus {status!r} is not an Amazon fulfillment status")
    channel = order.get("salesChannel") or {}
    programs = order.get("programs") or []
    v0 = {
        "AmazonOrderId": order["orderId"],
        "PurchaseDate": order["createdTime"],
        "LastUpdateDate": order["lastUpdatedTime"],
        "OrderStatus": STATUS_V0[status],
        "FulfillmentChannel": "AFN" if fulfillment.get("fulfilledBy") == "AMAZON" else "MFN",
        "SalesChannel": channel.get("marketplaceName", "Amazon.co.uk"),
        "MarketplaceId": channel.get("marketplaceId", ""),
        "IsPrime": "PRIME" in programs,
        "IsBusinessOrder": "AMAZON_BUSINESS" in programs,
        "IsPremiumOrder": "PREMIUM" in programs,
    }
    for alias in order.get("orderAliases") or []:
        if alias.get("aliasType") == "SELLER_ORDER_ID":
            v0["SellerOrderId"] = alias["aliasId"]
    if fulfillment.get("fulfillmentServiceLevel"):
        v0["ShipmentServiceLevelCategory"] = camel(fulfillment["fulfillmentServiceLevel"])
    for prefix, key in (("Ship", "shipByWindow"), ("Delivery", "deliverByWindow")):
        span = fulfillment.get(key) or {}
        if span.get("earliestDateTime"):
            v0[f"Earliest{prefix}Date"] = span["earliestDateTime"]
        if span.get("latestDateTime"):
            v0[f"Latest{prefix}Date"] = span["latestDateTime"]
    if (order.get("proceeds") or {}).get("grandTotal"):
        v0["OrderTotal"] = v0_money(order["proceeds"]["grandTotal"])
    address = (order.get("recipient") or {}).get("deliveryAddress")
    if address:
        v0["ShippingAddress"] = {ADDRESS_KEYS[k]: v for k, v in address.items() if k in ADDRESS_KEYS}
        if address.get("addressType"):
            v0["ShippingAddress"]["AddressType"] = camel(address["addressType"])
    buyer = order.get("buyer") or {}
    keys = {"buyerName": "BuyerName", "buyerEmail": "BuyerEmail", "buyerPurchaseOrderNumber": "PurchaseOrderNumber"}
    if buyer:
        v0["BuyerInfo"] = {new: buyer[old] for old, new in keys.items() if buyer.get(old)}
    items = [item_from_2026(item, f"{where}.orderItems[{i}]") for i, item in enumerate(order.get("orderItems") or [])]
    v0["NumberOfItemsShipped"] = sum(item["QuantityShipped"] for item in items)
    v0["NumberOfItemsUnshipped"] = sum(item["QuantityOrdered"] for item in items) - v0["NumberOfItemsShipped"]
    packages = [package_from_2026(package) for package in order.get("packages") or []]
    return OrderRecord(order=v0, items=items, packages=packages)


def item_from_2026(item, where):
    for key in ("orderItemId", "quantityOrdered"):
        if item.get(key) in (None, ""):
            raise ValueError(f"{where}: {key} is missing")
    product = item.get("product") or {}
    quantity = item["quantityOrdered"]
    result = {
        "ASIN": product.get("asin", ""),
        "OrderItemId": item["orderItemId"],
        "SellerSKU": product.get("sellerSku", ""),
        "Title": product.get("title", ""),
        "QuantityOrdered": quantity,
        "QuantityShipped": (item.get("fulfillment") or {}).get("quantityFulfilled", 0),
    }
    unit = (product.get("price") or {}).get("unitPrice")
    if unit:
        result["ItemPrice"] = {
            "CurrencyCode": unit["currencyCode"],
            "Amount": f"{Decimal(unit['amount']) * quantity:.2f}",
        }
    promotions = [p["promotionId"] for p in (item.get("promotion") or {}).get("breakdowns", []) if p.get("promotionId")]
    if promotions:
        result["PromotionIds"] = promotions
    return result


def package_from_2026(package):
    return {
        "packageReferenceId": package["packageReferenceId"],
        "carrierCode": package.get("carrier", "Other"),
        "shippingMethod": package.get("shippingService", ""),
        "trackingNumber": package.get("trackingNumber", ""),
        "shipDate": package.get("shipTime", ""),
        "orderItems": [
            {"orderItemId": line["orderItemId"], "quantity": line["quantity"]}
            for line in package.get("packageItems", [])
        ],
    }


def load_orders(state, response):
    """Add or replace the orders in a getOrders/searchOrders-shaped dict; returns their ids."""
    records = records_from_response(response)
    with state.lock:
        for record in records:
            state.orders[record.order_id] = record
    return [record.order_id for record in records]


def request_cancellation(state, order_id, reason="BuyerCanceled", at=None):
    """The buyer asks to cancel an order that is still to ship: the items carry the request, the
    order stays Unshipped until the seller cancels it; LastUpdateDate moves to `at` (default now)."""
    with state.lock:
        record = get_record(state, order_id)
        record.order["LastUpdateDate"] = state.stamp(at or state.now())
        for item in record.items:
            item["BuyerRequestedCancel"] = {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": reason}
    order_change(state, record, "BuyerRequestedChange", "Buyer Requested Cancel")


def cancel_order(state, order_id, reason="BuyerCanceled", at=None):
    """Amazon cancels an order (buyer request or payment failure); LastUpdateDate moves to `at` (default now)."""
    with state.lock:
        record = get_record(state, order_id)
        if record.order["OrderStatus"] in ("Shipped", "InvoiceUnconfirmed"):
            raise ValueError(f"order {order_id} is {record.order['OrderStatus']} and cannot be cancelled")
        record.order["OrderStatus"] = "Canceled"
        record.order["NumberOfItemsUnshipped"] = 0
        record.order["LastUpdateDate"] = state.stamp(at or state.now())
        for item in record.items:
            item["BuyerRequestedCancel"] = {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": reason}
    order_change(state, record, "OrderStatusChange", reason)
