"""confirmShipment: validates a package the way Amazon does, records it and moves the order's status."""

from __future__ import annotations

import copy
import re

from .orders import get_record, refresh_status
from .sqs import order_change
from .state import iso, parse_iso
from .web import Routes, empty_response, invalid_input

routes = Routes()

# Carrier codes Amazon accepts in `carrierCode` (feed schema enumeration plus newer published lists).
CARRIER_CODES = frozenset(
    {
        "4PX",
        "A-1",
        "AAA Cooper",
        "ABF",
        "AFL/Fedex",
        "Amazon Shipping",
        "AMZL",
        "AMZL_UK",
        "AO",
        "APC",
        "APC Overnight",
        "Aramex",
        "Arrow XL",
        "Asendia",
        "Australia Post",
        "Blue Package",
        "BlueDart",
        "BPOST",
        "BRT",
        "Canada Post",
        "Chronopost",
        "City Link",
        "Citypost",
        "Colissimo",
        "Correos",
        "DB Schenker",
        "Delhivery",
        "Deutsche Post",
        "DHL",
        "DHL eCommerce",
        "DHL Express",
        "DHL Global Mail",
        "DHL Parcel UK",
        "DPD",
        "DPD Local",
        "DTDC",
        "DX",
        "DX Express",
        "DX Freight",
        "DX Secure",
        "Estes",
        "Fastway",
        "FedEx",
        "FedEx SmartPost",
        "FEDEX_JP",
        "First Flight",
        "GEODIS",
        "GFS",
        "GLS",
        "GO!",
        "Hermes",
        "Hermes Logistik Gruppe",
        "Hermes UK",
        "Hongkong Post",
        "Huxloe Logistics",
        "India Post",
        "InPost",
        "Interlink",
        "JP_EXPRESS",
        "La Poste",
        "Lasership",
        "Newgistics",
        "NipponExpress",
        "NITTSU",
        "OnTrac",
        "OSM",
        "Other",
        "Overnite Express",
        "Parcel2Go.com",
        "Parcelforce",
        "Parcelhub",
        "Parcelnet",
        "Poste Italiane",
        "Professional",
        "Royal Mail",
        "SAGAWA",
        "SagawaExpress",
        "SDA",
        "Smartmail",
        "Streamlite",
        "Target",
        "The Delivery Group",
        "TNT",
        "Tuffnells",
        "UK MAIL",
        "UPS",
        "UPS Mail Innovations",
        "UPSMI",
        "USPS",
        "Whistl",
        "XDP",
        "XPO",
        "YAMATO",
        "YamatoTransport",
        "Yodel",
    }
)
SHIPPABLE = ("Unshipped", "PartiallyShipped", "Shipped")


def bad(field, problem):
    return invalid_input(f"Invalid Input: {field} {problem}", f"packageDetail.{field}" if field else "")


def check_package(detail):
    """The requested quantity per orderItemId, after checking every field of packageDetail."""
    if not isinstance(detail, dict):
        raise invalid_input("Invalid Input: packageDetail is required", "packageDetail")
    reference = detail.get("packageReferenceId")
    if not str(reference or "").isdigit() or int(str(reference)) <= 0:
        raise bad("packageReferenceId", f"must be a positive number, got {reference!r}")
    carrier = detail.get("carrierCode")
    if not carrier:
        raise bad("carrierCode", "is required")
    if carrier not in CARRIER_CODES:
        raise bad("carrierCode", f"{carrier!r} is not an accepted carrier code; use 'Other' with carrierName")
    if carrier == "Other" and not str(detail.get("carrierName") or "").strip():
        raise bad("carrierName", "is required when carrierCode is 'Other'")
    if not str(detail.get("trackingNumber") or "").strip():
        raise bad("trackingNumber", "is required")
    ship_date = detail.get("shipDate")
    if ship_date is None:
        raise bad("shipDate", "is required")
    if not isinstance(ship_date, str) or parse_iso(ship_date) is None or "T" not in ship_date:
        raise bad("shipDate", f"must be an ISO 8601 date-time, got {ship_date!r}")
    if not re.search(r"(Z|[+-]\d\d:?\d\d)$", ship_date):
        # Undocumented: Amazon may read a bare time as UTC; refusing it is the stricter choice.
        raise bad("shipDate", f"must carry a time zone (Z or +hh:mm), got {ship_date!r}")
    lines = detail.get("orderItems")
    if not isinstance(lines, list) or not lines:
        raise bad("orderItems", "is required and must list at least one item")
    wanted = {}
    for index, line in enumerate(lines):
        where = f"orderItems[{index}]"
        if not isinstance(line, dict) or not line.get("orderItemId"):
            raise bad(f"{where}.orderItemId", "is required")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise bad(f"{where}.quantity", f"must be a positive integer, got {quantity!r}")
        wanted[str(line["orderItemId"])] = wanted.get(str(line["orderItemId"]), 0) + quantity
    return wanted


def package_quantities(package):
    totals = {}
    for line in package["orderItems"]:
        totals[str(line["orderItemId"])] = totals.get(str(line["orderItemId"]), 0) + line["quantity"]
    return totals


@routes.add("POST", r"/orders/v0/orders/(?P<order_id>[^/]+)/shipmentConfirmation", "confirmShipment")
def confirm_shipment(state, request):
    body = request.json()
    if not body.get("marketplaceId"):
        raise invalid_input("Invalid Input: marketplaceId is required", "marketplaceId")
    detail = body.get("packageDetail")
    wanted = check_package(detail)
    with state.lock:
        record = get_record(state, request.params["order_id"])
        order = record.order
        if body["marketplaceId"] != order.get("MarketplaceId"):
            raise invalid_input(
                f"Invalid Input: marketplaceId {body['marketplaceId']} is not the order's marketplace", "marketplaceId"
            )
        if order.get("FulfillmentChannel") == "AFN":
            raise invalid_input("Invalid Input: the order is fulfilled by Amazon", "orderId")
        if order["OrderStatus"] not in SHIPPABLE:
            raise invalid_input(f"Invalid Input: the order is {order['OrderStatus']} and cannot be shipped", "orderId")
        shipped = parse_iso(detail["shipDate"])
        if shipped > state.now():
            raise bad("shipDate", f"{detail['shipDate']} is in the future")
        purchased = parse_iso(order.get("PurchaseDate"))
        if purchased is not None and shipped < purchased:
            raise bad("shipDate", f"{detail['shipDate']} is before the order was placed ({order['PurchaseDate']})")
        # Sending a package reference again edits that package (and makes a retried call harmless).
        reference = str(detail["packageReferenceId"])
        previous = next((p for p in record.packages if str(p["packageReferenceId"]) == reference), None)
        already = package_quantities(previous) if previous else {}
        items = {item["OrderItemId"]: item for item in record.items}
        for item_id, quantity in wanted.items():
            item = items.get(item_id)
            if item is None:
                raise bad("orderItems.orderItemId", f"{item_id} is not an item of order {record.order_id}")
            open_quantity = item["QuantityOrdered"] - item.get("QuantityShipped", 0) + already.get(item_id, 0)
            if quantity > open_quantity:
                raise bad("orderItems.quantity", f"{quantity} for item {item_id} exceeds the {open_quantity} unshipped")
        for item_id, quantity in already.items():
            items[item_id]["QuantityShipped"] -= quantity
        for item_id, quantity in wanted.items():
            items[item_id]["QuantityShipped"] = items[item_id].get("QuantityShipped", 0) + quantity
        accepted = copy.deepcopy(detail)
        if previous:
            record.packages[record.packages.index(previous)] = accepted
        else:
            record.packages.append(accepted)
            record.package_times[reference] = iso(state.now())
            record.first_confirmed = record.first_confirmed or iso(state.now())
        status_before = record.order["OrderStatus"]
        refresh_status(state, record)
    if record.order["OrderStatus"] != status_before:
        order_change(state, record)
    return empty_response(204)
