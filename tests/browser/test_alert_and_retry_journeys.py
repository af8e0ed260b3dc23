"""Browser journeys (headless Chromium): an alert fires once to a chat webhook on loopback and resolves, as
ops see it on the alerts page; an admin ticks failed confirmations on the work page, retries them together,
and sees them confirmed on the Amazon emulator."""

import pytest
from django.utils import timezone

from integration_hub.alerts.models import Alert, AlertRule
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from tests.alerts.test_alerts import ChatReceiver, run_evaluation
from tests.browser.test_ops_finance_journeys import artifacts
from tests.e2e.conftest import account, run_repeating, work  # noqa: F401 - fixtures used by name
from tests.e2e.test_outage import mapped  # noqa: F401
from tests.factories import SellerAccountFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat():
    receiver = ChatReceiver()
    yield receiver
    receiver.stop()


def test_an_alert_fires_once_to_the_chat_webhook_and_resolves(sign_in, ops_user, live_server, chat):
    AlertRule.objects.all().delete()
    AlertRule.objects.create(name="Dead letters", kind="dead_letters", threshold=1, severity="warning",
                             chat_webhook_url=chat.url)
    seller = SellerAccountFactory(name="UK seller")
    dead = WorkItem.objects.create(kind=WorkKind.PUSH_STOCK, key=f"{seller.pk}:fast", account=seller,
                                   state=WorkState.DEAD, last_error="400 InvalidInput", dead_at=timezone.now())
    run_evaluation()
    run_evaluation()  # still open: told once
    assert len(chat.messages) == 1 and "Dead letters" in chat.messages[0]
    page = sign_in(ops_user)
    page.click("nav >> text=Alerts")
    page.wait_for_selector("text=UK seller")
    assert "open" in page.locator("main table").inner_text()
    page.screenshot(path=str(artifacts() / "alerts-open.png"), full_page=True)

    WorkItem.objects.filter(pk=dead.pk).update(state=WorkState.DONE)  # ops fixed and retried it
    run_evaluation()
    assert len(chat.messages) == 2 and "resolved" in chat.messages[1].lower()
    page.reload()
    assert "Nothing open." in page.locator("main").inner_text()
    page.click("text=All, with history")
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    page.click(f"a[href='/alerts/{alert.pk}/']")
    page.wait_for_selector("text=resolved")
    assert "docs/operations.md#dead-letters" in page.content()


def test_admin_bulk_retries_failed_confirmations_and_sees_them_confirmed(
        sign_in, admin_user, live_server, mapped, amazon_emulator, warehouse, run_repeating, work):  # noqa: F811
    ids = [amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}]) for _ in range(2)]
    run_repeating("orders.import")
    for n, order_id in enumerate(ids):
        line = Order.objects.get(amazon_order_id=order_id).lines.get()
        warehouse.dispatch(order_id, [{"tracking_number": f"RM-BULK-{n}", "lines": {line.order_item_id: 1}}],
                           ship_method=warehouse.ship_method)
    amazon_emulator.fault_plan.script("confirmShipment", "400", "400")  # refused for good, twice
    run_repeating("shipments.poll_dispatches")
    work()
    assert WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT, state=WorkState.DEAD).count() == 2

    page = sign_in(admin_user)
    page.goto(f"{live_server.url}/sync/?state=dead&kind=confirm_shipment")
    for box in page.locator("input[name=items]").all():
        box.check()
    page.screenshot(path=str(artifacts() / "work-items-dead.png"), full_page=True)
    page.click("button:has-text('Retry the ticked dead letters')")
    page.wait_for_selector("text=Queued 2 item(s)")
    work()  # the shipments lane's worker
    for n, order_id in enumerate(ids):
        assert [p["trackingNumber"] for p in amazon_emulator.confirmations(order_id)] == [f"RM-BULK-{n}"]
    assert not WorkItem.objects.filter(state=WorkState.DEAD).exists()
