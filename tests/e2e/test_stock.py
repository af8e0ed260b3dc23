"""Stock that never goes backwards, end to end: Amazon emulator over HTTP, Dynamics SL emulator, RQ worker."""

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.base import StockRecord
from integration_hub.inventory import services
from integration_hub.inventory.models import StockCheck, StockLevel, StockPush
from integration_hub.orders.models import Order
from tests.factories import ShipLevelMapFactory, SkuLinkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def calls(amazon_emulator, operation_path, method="GET"):
    return [path for verb, path, _ in amazon_emulator.requests if verb == method and operation_path in path]


def test_an_older_reading_never_overwrites_a_newer_one(account):
    now = timezone.now()
    newer = StockRecord(item_code="I1", warehouse="MAIN", on_hand=3, allocated=0, available=3, measured_at=now)
    older = StockRecord(item_code="I1", warehouse="MAIN", on_hand=9, allocated=0, available=9,
                        measured_at=now - timezone.timedelta(seconds=30))
    assert services.store_levels(account.back_office, [newer]) == 1
    # A slow run that read the warehouse earlier finishes later: its reading is ignored.
    assert services.store_levels(account.back_office, [older]) == 0
    assert StockLevel.objects.get(item_code="I1").available == 3
    # Two readings of one item in a single reply: the newest is kept, whatever the order.
    latest = StockRecord(item_code="I1", warehouse="MAIN", on_hand=1, allocated=0, available=1,
                         measured_at=now + timezone.timedelta(seconds=5))
    services.store_levels(account.back_office, [latest, older])
    assert StockLevel.objects.get(item_code="I1").available == 1


def _feed_tier(account, amazon_emulator, warehouse, handling_days=2):
    for n in range(12):
        sku, item = f"FEED-SKU-{n:02d}", f"FEED-ITEM-{n:02d}"
        SkuLinkFactory(account=account, seller_sku=sku, item_code=item, velocity_tier="medium",
                       handling_days=handling_days)
        amazon_emulator.add_listing(sku, quantity=0, handling_days=4)
        warehouse.add_item(item, on_hand=7)


def test_a_sku_in_an_unfinished_feed_waits_for_it_then_its_newer_value_is_sent(
        account, amazon_emulator, warehouse, run_repeating):
    _feed_tier(account, amazon_emulator, warehouse)
    amazon_emulator.set_faults(stuck_feeds=True, quota_multiplier=100)
    run_repeating("stock.medium")
    assert StockPush.objects.filter(feed_id__gt="").count() == 12
    warehouse.add_item("FEED-ITEM-03", on_hand=2)  # sold down while Amazon still processes the feed
    run_repeating("stock.medium")
    # Not patched behind the feed: the feed's older 7 would land after it and stay.
    assert not calls(amazon_emulator, "/listings/2021-08-01/items/", method="PATCH")
    assert StockPush.objects.get(sku="FEED-SKU-03").quantity == 7
    amazon_emulator.set_faults(stuck_feeds=False, feed_polls_to_done=1)
    run_repeating("stock.follow_feeds")  # the feed lands (7), then the tier is pushed again at once
    assert amazon_emulator.listing("FEED-SKU-03")["quantity"] == 2
    assert amazon_emulator.listing("FEED-SKU-04")["quantity"] == 7


def test_handling_times_the_hub_does_not_know_are_read_twenty_at_a_time(
        account, amazon_emulator, warehouse, run_repeating):
    _feed_tier(account, amazon_emulator, warehouse, handling_days=None)
    amazon_emulator.set_faults(feed_polls_to_done=1, quota_multiplier=100)
    run_repeating("stock.medium")
    run_repeating("stock.follow_feeds")
    searched = f"/listings/2021-08-01/items/{account.seller_id}"
    assert [path for path in calls(amazon_emulator, "/listings/") if path.rstrip("/") == searched] == [searched]
    assert not calls(amazon_emulator, searched + "/")  # no getListingsItem one SKU at a time
    assert amazon_emulator.listing("FEED-SKU-11") == {**amazon_emulator.listing("FEED-SKU-11"),
                                                       "quantity": 7, "handling_days": 4}
    # What was learnt is not taken for a change: the next run sends nothing.
    before = len(amazon_emulator.requests)
    run_repeating("stock.medium")
    assert not [r for r in amazon_emulator.requests[before:] if "/listings/" in r[1] or "/feeds/" in r[1]]


@pytest.fixture
def fast_mover(account, amazon_emulator, warehouse):
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="BOTTLE-750", velocity_tier="fast",
                   handling_days=2)
    warehouse.add_item("BOTTLE-750", on_hand=5)
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=0, handling_days=2)
    return account


def test_orders_the_back_office_has_not_allocated_are_not_offered_again(
        fast_mover, amazon_emulator, run_repeating):
    # No ship-level map: the order is held, so the warehouse does not know about it yet.
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}])
    run_repeating("orders.import")
    assert Order.objects.get(amazon_order_id=order_id).hub_state == "held"
    run_repeating("stock.fast")
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 3  # 5 in the warehouse, 2 promised


def test_a_fast_mover_falling_to_the_threshold_is_pushed_at_once(
        fast_mover, amazon_emulator, warehouse, run_repeating, settings):
    settings.STOCK_LOW_THRESHOLD = 3
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    run_repeating("stock.fast")
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 5
    amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    run_repeating("orders.import")  # 4 left: above the threshold, no push until the tier's run
    assert StockPush.objects.get(sku="DEMO-SKU-001").quantity == 5
    amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-002", "QuantityOrdered": 1},
                                      {"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2}])
    run_repeating("orders.import")  # the import's own worker run pushes: no stock.fast run here
    assert StockPush.objects.get(sku="DEMO-SKU-001").quantity <= 3
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == StockPush.objects.get(sku="DEMO-SKU-001").quantity


def test_the_drift_check_reads_amazon_back_and_pushes_again_what_differs(
        fast_mover, amazon_emulator, warehouse, run_repeating, settings, client_as, ops_user):
    settings.STOCK_LOW_THRESHOLD = -1  # no immediate pushes: the check alone must find the drift
    SkuLinkFactory(account=fast_mover, seller_sku="DEMO-SKU-004", item_code="TOWEL-5", velocity_tier="fast",
                   handling_days=2)
    warehouse.add_item("TOWEL-5", on_hand=1)
    amazon_emulator.add_listing("DEMO-SKU-004", quantity=0, handling_days=2)
    run_repeating("stock.fast")
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 5
    # Someone edits a quantity in Seller Central; another listing merely sold its last one.
    amazon_emulator.add_listing("DEMO-SKU-001", quantity=40, handling_days=2)
    amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 1}])
    run_repeating("orders.import")
    amazon_emulator.add_listing("DEMO-SKU-004", quantity=0, handling_days=2)  # Amazon lowered it for the sale
    run_repeating("stock.drift_check")
    check = StockCheck.objects.get()
    assert not check.done
    run_repeating("stock.follow_feeds")  # IN_PROGRESS
    run_repeating("stock.follow_feeds")  # DONE: compared, the drifted SKU pushed again by the worker
    check.refresh_from_db()
    assert (check.done, check.skus_checked, check.drifted) == (True, 2, 1), check.note
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 5
    assert StockPush.objects.get(sku="DEMO-SKU-001").last_error == ""
    assert amazon_emulator.listing("DEMO-SKU-004")["quantity"] == 0
    page = client_as(ops_user).get(reverse("inventory:list")).content.decode()
    assert "2 SKUs checked, 1 differed and were sent again" in page
