"""The orders import against the Amazon emulator when Amazon sends an order the hub cannot read."""

import datetime as dt

import pytest
from django.utils import timezone

from connectors.amazon.calls import Caller
from integration_hub.orders import intake, services, windows
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import run_work_item
from integration_hub.sync.models import Cursor, WorkItem
from tests.connectors.amazon.test_client_unreadable import amazon_adds_a_status, amazon_json_order
from tests.factories import SellerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(amazon_emulator, monkeypatch):
    monkeypatch.setattr(Caller, "BACKOFF_BASE", 0.02)
    return SellerAccountFactory(
        seller_id=amazon_emulator.seller_id, marketplace_ids=[amazon_emulator.marketplace_id],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, endpoint=amazon_emulator.url,
        token_url=f"{amazon_emulator.url}/auth/o2/token",
    )


def test_an_order_with_an_unknown_status_becomes_a_dead_letter_and_the_rest_come_in(account, amazon_emulator,
                                                                                   monkeypatch):
    good = amazon_emulator.make_order()
    amazon_adds_a_status(monkeypatch, "BOGUS")
    [bogus] = amazon_emulator.load({"orders": [amazon_json_order("202-0000004-0000004", status="BOGUS")]})
    cursor = f"orders:{account.pk}"
    before = timezone.now() - dt.timedelta(hours=1)
    Cursor.write(cursor, before.isoformat())

    assert intake.import_recent(account) == 1

    assert list(Order.objects.filter(account=account).values_list("amazon_order_id", flat=True)) == [good]
    assert windows.Walk.load(cursor).since > before
    item = WorkItem.objects.get(kind=WorkKind.IMPORT_ORDER, key=services.order_key(account, bogus))
    run_work_item(item.pk)
    item.refresh_from_db()
    assert item.state == WorkState.DEAD and "unknown Amazon order status 'BOGUS'" in item.last_error
