import pytest
from django.utils import timezone

from connectors.amazon.records import FeedResult
from connectors.base import ConnectorError, StockRecord
from integration_hub.inventory import services
from integration_hub.inventory.models import StockFeed, StockLevel, StockPush
from mappings.choices import VelocityTier
from tests.factories import SellerAccountFactory, SkuLinkFactory, StockBufferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return SellerAccountFactory()


def warehouse_has(fakes, **available):
    fakes.back_office.stock = [
        StockRecord(item_code=code, warehouse="MAIN", on_hand=qty + 1, allocated=1, available=qty,
                    measured_at=timezone.now())
        for code, qty in available.items()
    ]


def pushed(fakes):
    calls = fakes.amazon.calls_of("update_quantity")
    return {update.sku: (update.quantity, update.handling_days) for update, _ in calls}


def test_quantity_is_available_minus_buffer_divided_by_pack(account, fakes):
    SkuLinkFactory(account=account, seller_sku="SINGLE", item_code="ITEM_1", handling_days=3)
    SkuLinkFactory(account=account, seller_sku="SIX-PACK", item_code="ITEM_1", pack_multiplier=6, handling_days=1)
    SkuLinkFactory(account=account, seller_sku="PLAIN", item_code="ITEM_2")
    StockBufferFactory(account=account, seller_sku="SINGLE", fixed_units=5)
    StockBufferFactory(account=account, seller_sku="", velocity_tier=VelocityTier.MEDIUM, percent=10)
    warehouse_has(fakes, ITEM_1=40, ITEM_2=3)
    services.measure(account, VelocityTier.MEDIUM)
    level = StockLevel.objects.get(item_code="ITEM_1")
    assert (level.on_hand, level.allocated, level.available) == (41, 1, 40)
    services.push(account, VelocityTier.MEDIUM)
    # SINGLE: own rule 40-5; SIX-PACK: tier rule 40-4=36 -> 6 packs; PLAIN: tier rule 3-1=2
    assert pushed(fakes) == {"SINGLE": (35, 3), "SIX-PACK": (6, 1), "PLAIN": (2, 2)}
    assert StockPush.objects.get(sku="SINGLE").quantity == 35


def test_buffer_never_makes_a_negative_quantity(account, fakes):
    SkuLinkFactory(account=account, seller_sku="LOW", item_code="ITEM_L")
    StockBufferFactory(account=account, seller_sku="LOW", fixed_units=10)
    warehouse_has(fakes, ITEM_L=4)
    services.measure(account, VelocityTier.MEDIUM)
    services.push(account, VelocityTier.MEDIUM)
    assert pushed(fakes) == {"LOW": (0, 2)}


def test_only_changed_quantities_are_pushed_again(account, fakes):
    SkuLinkFactory(account=account, seller_sku="S1", item_code="I1")
    SkuLinkFactory(account=account, seller_sku="S2", item_code="I2")
    warehouse_has(fakes, I1=5, I2=7)
    services.measure(account, VelocityTier.MEDIUM)
    services.push(account, VelocityTier.MEDIUM)
    fakes.amazon.calls.clear()
    warehouse_has(fakes, I1=5, I2=6)
    services.measure(account, VelocityTier.MEDIUM)
    assert services.push(account, VelocityTier.MEDIUM) == "1 updates sent one by one, 0 in feeds"
    assert pushed(fakes) == {"S2": (6, 2)}
    fakes.amazon.calls.clear()
    assert services.push(account, VelocityTier.MEDIUM) == "nothing changed"
    assert fakes.amazon.calls == []


def test_only_the_tier_being_refreshed_is_read_and_pushed(account, fakes):
    SkuLinkFactory(account=account, seller_sku="FAST", item_code="IF", velocity_tier=VelocityTier.FAST)
    SkuLinkFactory(account=account, seller_sku="SLOW", item_code="IS", velocity_tier=VelocityTier.SLOW)
    warehouse_has(fakes, IF=1, IS=2)
    services.measure(account, VelocityTier.FAST)
    services.push(account, VelocityTier.FAST)
    assert ("get_stock", ("IF",)) in fakes.back_office.calls
    assert pushed(fakes) == {"FAST": (1, 2)}


def test_rejected_sku_is_recorded_and_sent_again_next_time(account, fakes):
    SkuLinkFactory(account=account, seller_sku="BAD", item_code="IB")
    warehouse_has(fakes, IB=3)
    fakes.amazon.fail["update_quantity"] = [ConnectorError("INVALID: listing not found", permanent=True, status=400)]
    services.measure(account, VelocityTier.MEDIUM)
    services.push(account, VelocityTier.MEDIUM)
    assert StockPush.objects.get(sku="BAD").last_error == "INVALID: listing not found"
    services.push(account, VelocityTier.MEDIUM)
    assert StockPush.objects.get(sku="BAD").last_error == ""
    assert len(fakes.amazon.calls_of("update_quantity")) == 2


def test_many_changes_go_as_feeds_split_at_the_message_limit(account, fakes, monkeypatch):
    monkeypatch.setattr(services, "FEED_MESSAGE_LIMIT", 7)
    for n in range(16):
        SkuLinkFactory(account=account, seller_sku=f"BULK-{n:02d}", item_code=f"B{n}")
    warehouse_has(fakes, **{f"B{n}": n for n in range(16)})
    services.measure(account, VelocityTier.MEDIUM)
    services.push(account, VelocityTier.MEDIUM)
    feeds = fakes.amazon.calls_of("submit_quantity_feed")
    assert [len(updates) for (updates,) in feeds] == [7, 7, 2]
    assert sorted(u.sku for (updates,) in feeds for u in updates) == [f"BULK-{n:02d}" for n in range(16)]
    assert fakes.amazon.calls_of("update_quantity") == []
    assert StockFeed.objects.filter(account=account, done=False).count() == 3
    assert StockPush.objects.exclude(feed_id="").count() == 16


def test_feed_issues_are_recorded_per_sku_when_the_feed_is_done(account, fakes):
    for n in range(12):
        SkuLinkFactory(account=account, seller_sku=f"F{n}", item_code=f"FI{n}")
    warehouse_has(fakes, **{f"FI{n}": 5 for n in range(12)})
    services.measure(account, VelocityTier.MEDIUM)
    services.push(account, VelocityTier.MEDIUM)
    feed = StockFeed.objects.get()
    services.follow_feeds()
    assert not StockFeed.objects.get().done
    fakes.amazon.feed_results[feed.feed_id] = FeedResult(
        feed_id=feed.feed_id, status="DONE", done=True, issues_by_sku={"F3": ["90220: quantity is invalid"]},
        accepted=11, errors=1)
    services.follow_feeds()
    feed.refresh_from_db()
    assert feed.done and feed.accepted == 11 and feed.errors == 1
    assert StockPush.objects.get(sku="F3").last_error == "90220: quantity is invalid"
    assert StockPush.objects.filter(last_error="").count() == 11
    assert [u.sku for u in services.changes(account, VelocityTier.MEDIUM)] == ["F3"]
