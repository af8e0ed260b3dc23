"""Replay from the exchange log: Amazon refuses a confirmation for good (a scripted 400), the work item is
a dead letter; the exchange names its unit of work, an admin replays it from the exchange's page once the
cause is gone, a worker runs it and the package is confirmed on the emulator. Ops may not replay
confirmations (the same permission as retrying them)."""

import pytest

from integration_hub.exchanges.models import Exchange
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from tests.e2e.test_outage import mapped  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_refused_confirmation_is_replayed_from_its_exchange_and_lands(
        mapped, amazon_emulator, warehouse, run_repeating, work, client_as, admin_user, ops_user):  # noqa: F811
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    run_repeating("orders.import")
    line = Order.objects.get(amazon_order_id=order_id).lines.get()
    warehouse.dispatch(order_id, [{"tracking_number": "RM-REPLAY-1", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    amazon_emulator.fault_plan.script("confirmShipment", "400")
    run_repeating("shipments.poll_dispatches")
    work()
    item = WorkItem.objects.get(kind=WorkKind.CONFIRM_SHIPMENT)
    assert item.state == WorkState.DEAD
    refused = Exchange.objects.get(operation="confirmShipment", outcome="permanent")
    assert refused.work_item_id == item.pk, "the exchange names the work item whose run made it"

    assert client_as(ops_user).post(f"/exchanges/{refused.pk}/replay/").status_code == 403
    page = client_as(admin_user).get(f"/exchanges/{refused.pk}/").content.decode()
    assert "Replay: run this work again now" in page
    answer = client_as(admin_user).post(f"/exchanges/{refused.pk}/replay/", follow=True).content.decode()
    assert "queued again" in answer
    work()
    item.refresh_from_db()
    assert item.state == WorkState.DONE
    assert [p["trackingNumber"] for p in amazon_emulator.confirmations(order_id)] == ["RM-REPLAY-1"]
    again = client_as(admin_user).post(f"/exchanges/{refused.pk}/replay/", follow=True).content.decode()
    assert "left: it is done" in again, "work already done is not run twice"
