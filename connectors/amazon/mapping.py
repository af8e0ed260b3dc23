"""Amazon JSON <-> the connector's records, for both Orders API versions and the listings/feeds/reports shapes.

Field names and formats follow Amazon's published models (see /work/shared/spapi/FACTS.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from connectors.amazon.records import (
    AmazonOrder,
    AmazonOrderLine,
    PackageConfirmation,
    QuantityUpdate,
    SettlementReportInfo,
)
from connectors.base import Address, ConnectorError
from integration_hub.orders.choices import status_from_amazon

FEED_MESSAGE_LIMIT = 25_000  # JSON_LISTINGS_FEED messages per feed (since May 2025)
FULFILLMENT_CHANNELS = {"MERCHANT": "MFN", "AMAZON": "AFN", "MFN": "MFN", "AFN": "AFN"}
ZERO = Decimal(0)


class AmazonDataError(ValueError):
    """Amazon sent something the connector cannot read; the message says what and where."""


def invalid(message):
    """A request the connector refuses to send: Amazon would reject it, so retrying cannot help."""
    return ConnectorError(message, permanent=True, code="InvalidInput")


# ---- small readers ---------------------------------------------------------------------------


def parse_time(value, where=""):
    """An aware datetime from Amazon's ISO 8601 text (UTC assumed when no offset); None stays None."""
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise AmazonDataError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def iso(moment, where="time", millis=False):
    """Amazon's ISO 8601 form of an aware datetime, in UTC; with `millis`, a time with a fraction of a
    second keeps its milliseconds (a search window's bounds under compressed time, where a second counts)."""
    if moment.tzinfo is None:
        raise ValueError(f"{where} must be timezone-aware, got {moment!r}")
    moment = moment.astimezone(dt.UTC)
    if millis and moment.microsecond >= 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _shape(value, kind, where):
    if value in (None, ""):
        return kind()
    if not isinstance(value, kind):
        expected = {dict: "an object", list: "a list", str: "text"}[kind]
        raise AmazonDataError(f"{where} must be {expected}, not {type(value).__name__} {str(value)[:60]!r}")
    return value


def obj(value, where):
    """A JSON object as a dict ({} when absent); anything else is AmazonDataError naming the field."""
    return _shape(value, dict, where)


def items_of(value, where):
    """A JSON list ([] when absent) whose entries are objects."""
    return [obj(entry, f"{where}[{n}]") for n, entry in enumerate(_shape(value, list, where))]


def text(value, where):
    """A JSON string ("" when absent)."""
    return _shape(value, str, where)


def _lower(value, where="object"):
    """The same dict with lower-case keys: v0 is PascalCase, 2026-01-01 camelCase."""
    return {str(key).lower(): value for key, value in obj(value, where).items()}


def money(obj, where=""):
    """Decimal from a Money object (`Amount` is a string); None when absent."""
    if not obj:
        return None
    amount = _lower(obj, where).get("amount")
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise AmazonDataError(f"{where}: amount {amount!r} is not a number") from None
    if not value.is_finite():  # Decimal reads "NaN" and "Infinity", which no price is
        raise AmazonDataError(f"{where}: amount {amount!r} is not a number")
    return value


def whole(value, where=""):
    """A quantity: a whole number (Amazon sends an integer); None and "" are 0."""
    if value in (None, ""):
        return 0
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise AmazonDataError(f"{where}: {value!r} is not a whole number")
    return int(number)


def currency_of(obj, where="money"):
    return text(_lower(obj, where).get("currencycode"), f"{where} currencyCode") if obj else ""


def address(obj, where="address"):
    """A ship-to address from either API version's field names."""
    if not obj:
        return None
    raw = _lower(obj, where)

    def field(*names):
        for name in names:
            value = text(raw.get(name), f"{where} {name}")
            if value:
                return value
        return ""

    return Address(
        name=field("name"), company=field("companyname"), line1=field("addressline1"),
        line2=field("addressline2"), line3=field("addressline3"), city=field("city"),
        county=field("county", "districtorcounty", "stateorregion"), postcode=field("postalcode"),
        country_code=field("countrycode"), phone=field("phone"),
    )


def _status(raw, order_id):
    try:
        return status_from_amazon(raw)
    except ValueError as exc:
        raise AmazonDataError(f"order {order_id}: {exc}") from None


# ---- Orders API 2026-01-01 -------------------------------------------------------------------


def order_from_2026(data):
    """An AmazonOrder from a 2026-01-01 `Order` (searchOrders/getOrder with FULFILLMENT, PROCEEDS, ...)."""
    if not isinstance(data, dict):
        raise AmazonDataError("an order is not a JSON object")
    order_id = text(data.get("orderId"), "orderId")
    if not order_id:
        raise AmazonDataError("order without orderId")
    where = f"order {order_id}"
    fulfillment = obj(data.get("fulfillment"), f"{where} fulfillment")
    raw_status = text(fulfillment.get("fulfillmentStatus"), f"{where} fulfillmentStatus")
    if not raw_status:
        raise AmazonDataError(f"{where}: no fulfillment.fulfillmentStatus (FULFILLMENT missing from includedData?)")
    ship_by = obj(fulfillment.get("shipByWindow"), f"{where} shipByWindow")
    deliver_by = obj(fulfillment.get("deliverByWindow"), f"{where} deliverByWindow")
    programs = {text(program, f"{where} programs") for program in _shape(data.get("programs"), list,
                                                                          f"{where} programs")}
    total = obj(data.get("proceeds"), f"{where} proceeds").get("grandTotal")
    buyer = obj(data.get("buyer"), f"{where} buyer")
    order_items = items_of(data.get("orderItems"), f"{where} orderItems")
    return AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id=text(obj(data.get("salesChannel"), f"{where} salesChannel").get("marketplaceId"),
                            f"{where} marketplaceId"),
        status=_status(raw_status, order_id),
        raw_status=raw_status,
        purchase_date=parse_time(data.get("createdTime"), f"{where} createdTime"),
        last_update_date=parse_time(data.get("lastUpdatedTime"), f"{where} lastUpdatedTime"),
        earliest_ship_date=parse_time(ship_by.get("earliestDateTime"), f"{where} shipByWindow"),
        latest_ship_date=parse_time(ship_by.get("latestDateTime"), f"{where} shipByWindow"),
        latest_delivery_date=parse_time(deliver_by.get("latestDateTime"), f"{where} deliverByWindow"),
        ship_service_level=text(fulfillment.get("fulfillmentServiceLevel"), f"{where} fulfillmentServiceLevel"),
        is_prime="PRIME" in programs,
        is_business="AMAZON_BUSINESS" in programs,
        fulfillment_channel=FULFILLMENT_CHANNELS.get(text(fulfillment.get("fulfilledBy"), f"{where} fulfilledBy"),
                                                     "MFN"),
        currency=currency_of(total, f"{where} proceeds.grandTotal"),
        order_total=money(total, f"{where} proceeds.grandTotal"),
        buyer_name=text(buyer.get("buyerName"), f"{where} buyerName"),
        buyer_email=text(buyer.get("buyerEmail"), f"{where} buyerEmail"),
        address=address(obj(data.get("recipient"), f"{where} recipient").get("deliveryAddress"),
                        f"{where} deliveryAddress"),
        lines=[_line_from_2026(item, where) for item in order_items],
        buyer_cancel_reason=buyer_cancel_reason(order_items, where),
    )


def buyer_cancel_reason(items, where="order"):
    """The buyer's reason when any item carries a cancellation request from the buyer, else ""."""
    for item in items:
        cancellation = obj(obj(item, f"{where} item").get("cancellation"), f"{where} cancellation")
        request = obj(cancellation.get("cancellationRequest"), f"{where} cancellationRequest")
        if str(request.get("requester", "")).upper() == "BUYER":
            return str(request.get("cancelReason") or "no reason given")[:200]
    return ""


def _line_from_2026(item, where):
    item_id = text(item.get("orderItemId"), f"{where} orderItemId")
    where = f"{where} item {item_id}"
    product = obj(item.get("product"), f"{where} product")
    quantity = whole(item.get("quantityOrdered"), f"{where} quantityOrdered")
    breakdowns = {}
    for breakdown in items_of(obj(item.get("proceeds"), f"{where} proceeds").get("breakdowns"),
                              f"{where} proceeds.breakdowns"):
        breakdowns[text(breakdown.get("type"), f"{where} breakdown type")] = breakdown

    def subtotal(kind):
        return money(obj(breakdowns.get(kind), f"{where} proceeds {kind}").get("subtotal"), f"{where} proceeds {kind}")

    tax_total = subtotal("TAX") or ZERO
    tax_parts = {}
    for part in items_of(obj(breakdowns.get("TAX"), f"{where} TAX").get("detailedBreakdowns"), f"{where} TAX"):
        subtype = text(part.get("subtype"), f"{where} tax subtype")
        tax_parts[subtype] = money(part.get("value"), f"{where} tax {subtype}")
    item_price = subtotal("ITEM")
    if item_price is None:  # proceeds not requested: derive from the unit price
        unit = money(obj(product.get("price"), f"{where} price").get("unitPrice"), f"{where} unitPrice")
        item_price = (unit or ZERO) * quantity
    return AmazonOrderLine(
        order_item_id=item_id,
        sku=text(product.get("sellerSku"), f"{where} sellerSku"),
        asin=text(product.get("asin"), f"{where} asin"),
        title=text(product.get("title"), f"{where} title"),
        quantity_ordered=quantity,
        quantity_shipped=whole(obj(item.get("fulfillment"), f"{where} fulfillment").get("quantityFulfilled"),
                               f"{where} quantityFulfilled"),
        item_price=item_price,
        item_tax=tax_parts.get("ITEM", tax_total if not tax_parts else ZERO),
        shipping_price=subtotal("SHIPPING") or ZERO,
        shipping_tax=tax_parts.get("SHIPPING", ZERO),
        promotion_discount=abs(subtotal("DISCOUNT") or ZERO),
    )


# ---- Orders API v0 (the sandbox samples, notifications; kept so a swap back is one line) ----


def order_from_v0(order, items=(), shipping_address=None):
    """An AmazonOrder from a v0 `Order` plus its `OrderItems` (and the address, if fetched separately)."""
    order_id = order.get("AmazonOrderId")
    if not order_id:
        raise AmazonDataError("order without AmazonOrderId")
    where = f"order {order_id}"
    buyer = order.get("BuyerInfo") or {}
    total = order.get("OrderTotal")
    return AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id=order.get("MarketplaceId", ""),
        status=_status(order.get("OrderStatus"), order_id),
        raw_status=order.get("OrderStatus"),
        purchase_date=parse_time(order.get("PurchaseDate"), f"{where} PurchaseDate"),
        last_update_date=parse_time(order.get("LastUpdateDate"), f"{where} LastUpdateDate"),
        earliest_ship_date=parse_time(order.get("EarliestShipDate"), f"{where} EarliestShipDate"),
        latest_ship_date=parse_time(order.get("LatestShipDate"), f"{where} LatestShipDate"),
        latest_delivery_date=parse_time(order.get("LatestDeliveryDate"), f"{where} LatestDeliveryDate"),
        ship_service_level=order.get("ShipServiceLevel", ""),
        is_prime=bool(order.get("IsPrime")),
        is_business=bool(order.get("IsBusinessOrder")),
        fulfillment_channel=order.get("FulfillmentChannel", "MFN"),
        currency=currency_of(total),
        order_total=money(total, f"{where} OrderTotal"),
        buyer_name=buyer.get("BuyerName", ""),
        buyer_email=buyer.get("BuyerEmail", ""),
        address=address(shipping_address or order.get("ShippingAddress")),
        lines=[_line_from_v0(item, where) for item in items],
    )


def _line_from_v0(item, where):
    where = f"{where} item {item.get('OrderItemId', '')}"

    def amount(key):
        return money(item.get(key), f"{where} {key}") or ZERO

    return AmazonOrderLine(
        order_item_id=item.get("OrderItemId", ""),
        sku=item.get("SellerSKU", ""),
        asin=item.get("ASIN", ""),
        title=item.get("Title", ""),
        quantity_ordered=whole(item.get("QuantityOrdered"), f"{where} QuantityOrdered"),
        quantity_shipped=whole(item.get("QuantityShipped"), f"{where} QuantityShipped"),
        item_price=amount("ItemPrice"),
        item_tax=amount("ItemTax"),
        shipping_price=amount("ShippingPrice"),
        shipping_tax=amount("ShippingTax"),
        promotion_discount=abs(amount("PromotionDiscount")),
    )


# ---- what the connector sends ----------------------------------------------------------------


def confirm_shipment_body(order_id, marketplace_id, package: PackageConfirmation):
    """The v0 `ConfirmShipmentRequest` for one package; refuses what Amazon would reject."""
    where = f"order {order_id} package {package.package_reference_id}"
    if not isinstance(package.package_reference_id, int) or package.package_reference_id < 1:
        raise invalid(f"{where}: packageReferenceId must be a positive whole number")
    if not marketplace_id:
        raise invalid(f"{where}: no marketplace id")
    if not package.carrier_code:
        raise invalid(f"{where}: carrierCode is required")
    if package.carrier_code == "Other" and not package.carrier_name:
        raise invalid(f"{where}: carrierName is required when carrierCode is 'Other'")
    if not package.tracking_number:
        raise invalid(f"{where}: trackingNumber is required")
    if not package.items or any(qty < 1 for _, qty in package.items):
        raise invalid(f"{where}: needs at least one item, each with a positive quantity")
    if package.ship_date is None or package.ship_date.tzinfo is None:
        raise invalid(f"{where}: shipDate must be a timezone-aware datetime")
    detail = {
        "packageReferenceId": str(package.package_reference_id),
        "carrierCode": package.carrier_code,
        "trackingNumber": package.tracking_number,
        "shipDate": iso(package.ship_date),
        "orderItems": [{"orderItemId": item_id, "quantity": qty} for item_id, qty in package.items],
    }
    if package.carrier_name:
        detail["carrierName"] = package.carrier_name
    if package.shipping_method:
        detail["shippingMethod"] = package.shipping_method
    return {"marketplaceId": marketplace_id, "packageDetail": detail}


def fulfillment_availability_patch(update: QuantityUpdate, lead_days):
    """A replace of /attributes/fulfillment_availability that keeps the handling time (lead days)."""
    if not update.sku:
        raise invalid("quantity update without a SKU")
    if not isinstance(update.quantity, int) or update.quantity < 0:
        raise invalid(f"SKU {update.sku}: quantity must be a whole number >= 0, got {update.quantity!r}")
    value = {"fulfillment_channel_code": "DEFAULT", "quantity": update.quantity}
    if lead_days is not None:
        if not isinstance(lead_days, int) or lead_days < 0:
            raise invalid(f"SKU {update.sku}: handling days must be a whole number >= 0, got {lead_days!r}")
        value["lead_time_to_ship_max_days"] = lead_days
    return {"op": "replace", "path": "/attributes/fulfillment_availability", "value": [value]}


def listings_patch_body(update: QuantityUpdate, lead_days):
    """The `ListingsItemPatchRequest` for one SKU's merchant-fulfilled quantity."""
    return {"productType": update.product_type, "patches": [fulfillment_availability_patch(update, lead_days)]}


def lead_days_of(listing):
    """The handling time in a getListingsItem answer (includedData=attributes), or None."""
    for value in ((listing or {}).get("attributes") or {}).get("fulfillment_availability") or []:
        if value.get("fulfillment_channel_code", "DEFAULT") == "DEFAULT" and "lead_time_to_ship_max_days" in value:
            return int(value["lead_time_to_ship_max_days"])
    return None


def quantity_feed(seller_id, updates):
    """A JSON_LISTINGS_FEED document (one PATCH message per SKU) and its messageId -> SKU map."""
    if len(updates) > FEED_MESSAGE_LIMIT:
        raise ValueError(
            f"{len(updates)} quantity updates exceed the {FEED_MESSAGE_LIMIT} messages a JSON_LISTINGS_FEED"
            " may carry; split them into several feeds"
        )
    if not updates:
        raise ValueError("a quantity feed needs at least one update")
    missing = [u.sku for u in updates if u.handling_days is None]
    if missing:
        raise ValueError(
            f"feed updates must carry handling days or the replace would reset them; missing for {missing[:10]}"
            " (send those with update_quantity, which reads the current handling time)"
        )
    messages = []
    for message_id, update in enumerate(updates, start=1):
        messages.append({
            "messageId": message_id,
            "sku": update.sku,
            "operationType": "PATCH",
            "productType": update.product_type,
            "patches": [fulfillment_availability_patch(update, update.handling_days)],
        })
    document = {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_GB"}, "messages": messages}
    return document, {m["messageId"]: m["sku"] for m in messages}


def feed_issues(report, skus_by_message):
    """Issues of a processing report keyed by SKU (from the issue, else via its messageId); counts."""
    issues = {}
    for issue in report.get("issues") or []:
        message_id = issue.get("messageId")
        sku = issue.get("sku") or skus_by_message.get(message_id) or skus_by_message.get(str(message_id))
        if not sku:
            sku = f"message {message_id}" if message_id is not None else ""
        label = " ".join(part for part in (issue.get("severity", "ERROR"), issue.get("code", "")) if part)
        issues.setdefault(sku, []).append(f"{label}: {issue.get('message', '')}")
    summary = report.get("summary") or {}
    return issues, int(summary.get("messagesAccepted") or 0), int(summary.get("errors") or 0)


def settlement_report_info(report):
    where = f"report {report.get('reportId')}"
    return SettlementReportInfo(
        report_id=str(report["reportId"]),
        document_id=report.get("reportDocumentId", ""),
        created=parse_time(report.get("createdTime"), f"{where} createdTime"),
        data_start=parse_time(report.get("dataStartTime"), f"{where} dataStartTime"),
        data_end=parse_time(report.get("dataEndTime"), f"{where} dataEndTime"),
    )
