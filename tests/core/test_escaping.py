"""Untrusted text is never rendered as HTML: order ids, SKUs, tracking numbers, hold reasons and error
text from outside systems arrive with a script tag in them, and every page that shows them shows it
escaped (the raw tag appears nowhere)."""

import pytest

from integration_hub.exchanges.models import Exchange
from integration_hub.orders.choices import HubState
from integration_hub.shipments.models import UnmatchedDispatch
from tests.factories import (
    AddressFactory,
    OrderLineFactory,
    ShipmentFactory,
    SkuLinkFactory,
    StockLevelFactory,
    WorkItemFactory,
)

pytestmark = pytest.mark.django_db

RAW = "<script>1</script>"  # 18 characters: fits an Amazon order id column (19)
ESCAPED = "&lt;script&gt;1&lt;/script&gt;"


@pytest.fixture
def hostile():
    order = AddressFactory(order__amazon_order_id=RAW, order__hub_state=HubState.HELD,
                           order__hold_reason=f"SKU {RAW} has no SKU link", name=RAW).order
    OrderLineFactory(order=order, sku=f"SKU-{RAW}", title=RAW)
    shipment = ShipmentFactory(order=order, tracking_number=RAW, dispatch_ref=f"D-{RAW}", carrier=RAW)
    UnmatchedDispatch.objects.create(connection=order.account.back_office, amazon_order_id=RAW,
                                     dispatch_ref=f"U-{RAW}", payload={})
    WorkItemFactory(kind="confirm_shipment", key=str(shipment.pk), state="dead", last_error=f"Amazon said {RAW}")
    Exchange.objects.create(system="amazon", operation=f"op{RAW}", correlation_id=RAW, error=f"boom {RAW}",
                            account=order.account)
    StockLevelFactory(item_code=f"I-{RAW}")
    SkuLinkFactory(account=order.account, seller_sku=f"STK-{RAW}", item_code=f"I-{RAW}")
    return order, shipment


def test_hostile_values_are_shown_escaped_everywhere(client_as, admin_user, hostile):
    order, shipment = hostile
    exchange = Exchange.objects.get()
    client = client_as(admin_user)
    pages = {
        "/": "held order reason", "/orders/": "order id", f"/orders/{order.pk}/": "order, SKU, address, errors",
        "/orders/?held=true": "held list", "/shipments/": "tracking", f"/shipments/{shipment.pk}/": "tracking",
        "/sync/?state=dead": "work item error", "/exchanges/": "exchange", f"/exchanges/{exchange.pk}/": "exchange",
        "/stock/": "sku", "/admin/orders/order/": "admin list", f"/admin/orders/order/{order.pk}/change/": "admin",
        "/admin/shipments/shipment/": "admin list", "/admin/shipments/unmatcheddispatch/": "admin list",
        "/admin/inventory/stocklevel/": "admin list",
    }
    for url, what in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert RAW not in text, f"{url} ({what}) renders the tag as HTML"
        assert ESCAPED in text, f"{url} ({what}) does not show the value at all"
    api = client.get(f"/api/orders/{order.pk}/")
    assert api.json()["amazon_order_id"] == RAW and api["Content-Type"] == "application/json"
