"""factory-boy factories for the hub's models, shared by every app's tests.

Names are stable (`<Model>Factory`); other engineers import them. Defaults make a valid,
sendable order: an active account with a back office, an Unshipped MFN order, one line.
"""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from connectors.choices import BackOfficeKind, Region
from connectors.models import BackOfficeConnection, SellerAccount
from integration_hub.inventory.models import StockLevel, StockPush
from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.orders.models import Address, Order, OrderLine
from integration_hub.shipments.models import Shipment, ShipmentLine
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem
from mappings.choices import VelocityTier
from mappings.models import CarrierMap, ShipLevelMap, SkuLink, StockBuffer

UK = "A1F83G8C2ARO7P"


class BackOfficeConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackOfficeConnection

    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = BackOfficeKind.CLARUS
    endpoint = "http://127.0.0.1:1"
    username = "hub"
    secret = "warehouse-secret"
    options = factory.LazyFunction(dict)


class SellerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerAccount

    name = factory.Sequence(lambda n: f"Seller {n}")
    region = Region.EU
    seller_id = factory.Sequence(lambda n: f"A{n:013d}")
    marketplace_ids = factory.LazyFunction(lambda: [UK])
    lwa_app_id = "amzn1.application-oa2-client.test"
    lwa_client_secret = "lwa-secret"
    refresh_token = "Atzr|refresh"
    back_office = factory.SubFactory(BackOfficeConnectionFactory)


def _amazon_order_id(n):
    return f"202-{n:07d}-{(n * 7919) % 10**7:07d}"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(SellerAccountFactory)
    amazon_order_id = factory.Sequence(_amazon_order_id)
    marketplace_id = UK
    status = OrderStatus.UNSHIPPED
    amazon_status = "Unshipped"
    hub_state = HubState.RECEIVED
    fulfillment_channel = "MFN"
    ship_service_level = "Std UK Dom"
    purchase_date = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    last_update_date = factory.LazyFunction(timezone.now)
    latest_ship_date = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    latest_delivery_date = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    currency = "GBP"
    order_total = Decimal("19.98")
    buyer_name = "Jane Buyer"
    buyer_email = "jane@marketplace.amazon.co.uk"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    order = factory.SubFactory(OrderFactory)
    name = "Jane Buyer"
    line1 = "1 High Street"
    line2 = "Flat 2"
    city = "Leeds"
    county = "West Yorkshire"
    postcode = "LS1 4AB"
    country_code = "GB"
    phone = "0113 000000"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    order_item_id = factory.Sequence(lambda n: f"{10**13 + n:014d}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    asin = factory.Sequence(lambda n: f"B0{n:08d}")
    title = "Widget"
    quantity_ordered = 1
    item_price = Decimal("9.99")
    item_tax = Decimal("1.67")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    dispatch_ref = factory.Sequence(lambda n: f"DSP{n}")
    package_reference_id = 1
    carrier = "Royal Mail"
    ship_method = "RM24"
    tracking_number = factory.Sequence(lambda n: f"TRK{n:08d}GB")
    shipped_at = factory.LazyFunction(timezone.now)


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory)
    order_line = factory.SubFactory(OrderLineFactory, order=factory.SelfAttribute("..shipment.order"))
    quantity = 1


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    connection = factory.SubFactory(BackOfficeConnectionFactory)
    item_code = factory.Sequence(lambda n: f"ITEM-{n}")
    warehouse = "MAIN"
    on_hand = 10
    allocated = 0
    available = 10
    measured_at = factory.LazyFunction(timezone.now)


class StockPushFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockPush

    account = factory.SubFactory(SellerAccountFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    quantity = 0
    pushed_at = factory.LazyFunction(timezone.now)


class SkuLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuLink

    account = factory.SubFactory(SellerAccountFactory)
    seller_sku = factory.Sequence(lambda n: f"SKU-{n}")
    item_code = factory.Sequence(lambda n: f"ITEM-{n}")
    pack_multiplier = 1
    velocity_tier = VelocityTier.MEDIUM
    handling_days = 2


class CarrierMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierMap
        django_get_or_create = ("warehouse_ship_method",)

    warehouse_ship_method = "RM24"
    carrier_code = "Royal Mail"
    shipping_method = "Tracked 24"


class ShipLevelMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipLevelMap

    ship_service_level = "Std UK Dom"
    marketplace_id = ""
    is_prime = None
    warehouse_ship_method = "RM24"


class StockBufferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockBuffer

    account = factory.SubFactory(SellerAccountFactory)
    seller_sku = factory.Sequence(lambda n: f"SKU-{n}")
    velocity_tier = ""
    fixed_units = 0
    percent = Decimal("0")


class WorkItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkItem

    kind = WorkKind.SEND_ORDER
    key = factory.Sequence(lambda n: f"key-{n}")
    account = factory.SubFactory(SellerAccountFactory)
