"""Realistic made-up UK orders for tests and the demo (all names, addresses and phones are fictional)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from .orders import V0_STATUSES
from .sqs import order_change
from .state import OrderRecord, iso, parse_iso

# SKU -> (title, unit price incl. VAT); the demo's catalogue.
CATALOGUE = {
    "DEMO-SKU-001": ("Stainless Steel Water Bottle 750ml", "14.99"),
    "DEMO-SKU-002": ("Bamboo Chopping Board Set of 3", "24.50"),
    "DEMO-SKU-003": ("LED Desk Lamp with USB Charging Port", "29.99"),
    "DEMO-SKU-004": ("Cotton Tea Towels Pack of 5", "9.99"),
    "DEMO-SKU-005": ("Ceramic Coffee Mug 350ml, Sage Green", "8.49"),
    "DEMO-SKU-006": ("Wireless Ergonomic Mouse", "19.99"),
    "DEMO-SKU-007": ("Garden Kneeler and Seat", "34.95"),
    "DEMO-SKU-008": ("Reusable Beeswax Food Wraps", "12.00"),
    "DEMO-SKU-009": ("Yoga Mat 6mm, Non-Slip", "22.99"),
    "DEMO-SKU-010": ("Cast Iron Skillet 26cm", "39.99"),
    "DEMO-SKU-011": ("Kids' Wooden Puzzle Map of the UK", "16.99"),
    "DEMO-SKU-012": ("Draught Excluder, Grey Herringbone", "18.75"),
}
UNKNOWN_SKU = "DEMO-SKU-999"  # not linked anywhere: the demo shows the order held
SHIP_LEVELS = {  # ShipServiceLevel -> (ShipmentServiceLevelCategory, days to ship)
    "Std UK Dom": ("Standard", 2),
    "Exp UK Dom": ("Expedited", 1),
    "NextDay UK Dom": ("NextDay", 0),
}
FIRST_NAMES = ["Olivia", "Harry", "Amelia", "George", "Isla", "Noah", "Ava", "Jack", "Mia", "Oscar", "Priya", "Tomasz"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Hughes", "Walker", "Khan"]
PLACES = [  # (street, town, county, postcode)
    ("12 Acacia Avenue", "Reading", "Berkshire", "RG1 4QX"),
    ("Flat 3, 48 Mill Lane", "Leeds", "West Yorkshire", "LS6 2DT"),
    ("7 Harbour View", "Falmouth", "Cornwall", "TR11 3AZ"),
    ("221 Wellington Road", "Manchester", "Greater Manchester", "M14 6EF"),
    ("The Old Forge, Church Street", "Ludlow", "Shropshire", "SY8 1AP"),
    ("5 Thistle Court", "Edinburgh", "Midlothian", "EH7 5QP"),
    ("90 Castle Street", "Cardiff", "South Glamorgan", "CF10 1BS"),
    ("14 Rosemary Gardens", "Norwich", "Norfolk", "NR2 3HB"),
]
DEFAULT_LAG = dt.timedelta(minutes=3)  # generated orders are placed just outside getOrders' two-minute blind spot


def asin_for(sku):
    return "B0" + hashlib.md5(sku.encode()).hexdigest()[:8].upper()


def moment(value, name):
    """A datetime from a datetime or ISO 8601 text (as the admin endpoint passes it); None stays None."""
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = parse_iso(value)
    if parsed is None:
        raise ValueError(f"{name} must be an ISO 8601 date-time, got {value!r}")
    return parsed


def order_number(rng):
    return f"20{rng.randint(2, 6)}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}"


def pounds(value):
    return {"CurrencyCode": "GBP", "Amount": f"{value:.2f}"}


def vat_in(gross):
    return (gross / 6).quantize(Decimal("0.01"))  # the 20% VAT inside a VAT-inclusive UK price


def build_items(rng, lines, promotion):
    items = []
    for index, line in enumerate(lines):
        sku = line.get("SellerSKU") or rng.choice(sorted(CATALOGUE))
        title, price = CATALOGUE.get(sku, (f"Unlisted product {sku}", "10.00"))
        quantity = line.get("QuantityOrdered", 1)
        gross = Decimal(line.get("UnitPrice", price)) * quantity
        item = {
            "ASIN": line.get("ASIN") or asin_for(sku),
            "SellerSKU": sku,
            "OrderItemId": line.get("OrderItemId") or f"{rng.randint(10**13, 10**14 - 1)}",
            "Title": line.get("Title", title),
            "QuantityOrdered": quantity,
            "QuantityShipped": 0,
            "ProductInfo": {"NumberOfItems": "1"},
            "ItemPrice": pounds(gross),
            "ItemTax": pounds(vat_in(gross)),
            "ShippingPrice": pounds(Decimal("0")),
            "ShippingTax": pounds(Decimal("0")),
            "PromotionDiscount": pounds(Decimal("0")),
            "PromotionDiscountTax": pounds(Decimal("0")),
            "IsGift": "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
            "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""},
        }
        if promotion and index == 0:
            discount = (gross * Decimal("0.10")).quantize(Decimal("0.01"))
            item["PromotionDiscount"] = pounds(discount)
            item["PromotionDiscountTax"] = pounds(vat_in(discount))
            item["PromotionIds"] = [promotion]
        items.append(item)
    return items


def make_record(
    state,
    *,
    status="Unshipped",
    items=None,
    is_prime=False,
    ship_service_level="Std UK Dom",
    latest_ship_date=None,
    purchase_date=None,
    promotion=None,
    order_id=None,
    **fields,
):
    """One MFN UK order as Amazon stores it; `fields` override any v0 Order key (PascalCase)."""
    rng = state.random
    unknown = sorted(name for name in fields if not name[:1].isupper())
    if unknown:
        raise ValueError(f"unknown order option(s): {', '.join(unknown)} (v0 Order fields are PascalCase)")
    if status not in V0_STATUSES:
        raise ValueError(f"status {status!r} is not an Amazon v0 order status")
    category, days = SHIP_LEVELS.get(ship_service_level, ("Standard", 2))
    placed = moment(purchase_date, "purchase_date") or state.now() - DEFAULT_LAG
    latest_ship_date = moment(latest_ship_date, "latest_ship_date")
    lines = build_items(rng, items or [{}], promotion)
    if not is_prime and ship_service_level == "Std UK Dom":
        shipping = Decimal("2.99")
        lines[0]["ShippingPrice"] = pounds(shipping)
        lines[0]["ShippingTax"] = pounds(vat_in(shipping))
    total = sum(
        Decimal(i["ItemPrice"]["Amount"])
        + Decimal(i["ShippingPrice"]["Amount"])
        - Decimal(i["PromotionDiscount"]["Amount"])
        for i in lines
    )
    ordered = sum(i["QuantityOrdered"] for i in lines)
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    street, town, county, postcode = rng.choice(PLACES)
    latest_ship = latest_ship_date or (placed + dt.timedelta(days=days)).replace(hour=23, minute=59, second=59)
    order = {
        "AmazonOrderId": order_id or order_number(rng),
        "PurchaseDate": state.stamp(placed),
        "LastUpdateDate": state.stamp(placed),
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.co.uk",
        "ShipServiceLevel": ship_service_level,
        "OrderTotal": pounds(total),
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 0 if status == "Canceled" else ordered,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": state.marketplace_id,
        "ShipmentServiceLevelCategory": category,
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(placed),
        "LatestShipDate": iso(latest_ship),
        "EarliestDeliveryDate": iso(placed + dt.timedelta(days=days + 1)),
        "LatestDeliveryDate": iso(placed + dt.timedelta(days=days + 3)),
        "IsBusinessOrder": False,
        "IsPrime": bool(is_prime),
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "ShippingAddress": {
            "Name": f"{first} {last}",
            "AddressLine1": street,
            "City": town,
            "County": county,
            "PostalCode": postcode,
            "CountryCode": "GB",
            "Phone": f"+44 7700 900{rng.randint(0, 999):03d}",
            "AddressType": "Residential",
        },
        "BuyerInfo": {
            "BuyerEmail": f"{rng.getrandbits(40):x}@marketplace.amazon.co.uk",
            "BuyerName": f"{first} {last}",
        },
        "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
    }
    order.update(fields)
    if status == "Canceled":
        for item in lines:
            item["BuyerRequestedCancel"] = {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": "BuyerCanceled"}
    return OrderRecord(order=order, items=lines)


def make_order(state, **overrides):
    """Create one order (see make_record) and return its AmazonOrderId."""
    with state.lock:
        record = make_record(state, **overrides)
        state.orders[record.order_id] = record
    order_change(state, record)
    return record.order_id


def generate(state, count, *, spread_minutes=120):
    """A demo stream: Prime, multi-line, multi-quantity, promotions, cancellations, now and then an unknown SKU."""
    with state.lock:
        rng = state.random
        return [
            demo_order(
                state,
                placed=state.now() - DEFAULT_LAG - dt.timedelta(minutes=rng.uniform(0, spread_minutes)),
                unknown_sku=number % 17 == 16,
            )
            for number in range(count)
        ]


def arriving_order(state):
    """One demo order placed now, as far as getOrders can tell (DEFAULT_LAG ago), so the next poll sees it."""
    with state.lock:
        return demo_order(state, placed=state.now() - DEFAULT_LAG, unknown_sku=state.random.random() < 1 / 17)


def demo_order(state, *, placed, unknown_sku):
    """One order of the demo's mix, placed at `placed`; returns its AmazonOrderId."""
    rng = state.random
    skus = sorted(CATALOGUE)
    lines = [
        {"SellerSKU": rng.choice(skus), "QuantityOrdered": rng.choice([1, 1, 1, 2, 3])}
        for _ in range(rng.choice([1, 1, 1, 2, 3]))
    ]
    if unknown_sku:
        lines[0]["SellerSKU"] = UNKNOWN_SKU
    is_prime = rng.random() < 0.35
    level = (
        rng.choice(["NextDay UK Dom", "Exp UK Dom"])
        if is_prime
        else rng.choice(["Std UK Dom"] * 4 + ["Exp UK Dom"])
    )
    status = "Canceled" if rng.random() < 0.06 else "Unshipped"
    promotion = "UK-SPRING-10" if rng.random() < 0.15 else None
    return make_order(
        state,
        status=status,
        items=lines,
        is_prime=is_prime,
        ship_service_level=level,
        purchase_date=placed,
        promotion=promotion,
    )
