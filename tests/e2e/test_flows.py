"""The hub's flows end to end: Amazon emulator over HTTP, Dynamics SL emulator, a real RQ worker."""

import pytest
from django.utils import timezone

from integration_hub.orders.choices import HubState, OrderStatus
from integration_hub.orders.models import Order
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import sweep
from integration_hub.sync.models import WorkItem
from tests.factories import CarrierMapFactory, ShipLevelMapFactory, SkuLinkFactory, StockBufferFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mapped(account, warehouse):
    """Two linked SKUs stocked in the warehouse and the standard UK ship level mapped to its ship method."""
    for sku, item in (("DEMO-SKU-001", "BOTTLE-750"), ("DEMO-SKU-004", "TOWEL-5")):
        SkuLinkFactory(account=account, seller_sku=sku, item_code=item)
        warehouse.add_item(item, on_hand=50)
    # Orders API 2026-01-01 reports the service level category (fulfillmentServiceLevel), not v0's free text.
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    return account


def import_orders(run_repeating):
    run_repeating("orders.import")


def dispatch_in_two_packages(order, warehouse):
    first, second = order.lines.order_by("sku")
    warehouse.dispatch(order.amazon_order_id, [
        {"tracking_number": "RM100000001GB", "lines": {first.order_item_id: first.quantity_ordered}},
        {"tracking_number": "RM100000002GB", "lines": {second.order_item_id: second.quantity_ordered}},
    ], ship_method=warehouse.ship_method)


def test_order_is_imported_sent_dispatched_in_two_packages_and_confirmed_once(
        mapped, amazon_emulator, warehouse, run_repeating):
    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail",
                      shipping_method="Tracked 24")
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 2},
                                                 {"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == HubState.SENT and order.back_office_ref
    assert warehouse.order_count(order_id) == 1

    dispatch_in_two_packages(order, warehouse)
    run_repeating("shipments.poll_dispatches")
    run_repeating("shipments.poll_dispatches")  # a second poll changes nothing

    confirmations = amazon_emulator.confirmations(order_id)
    assert len(confirmations) == 2
    assert {c["carrierCode"] for c in confirmations} == {"Royal Mail"}
    assert sorted(c["trackingNumber"] for c in confirmations) == ["RM100000001GB", "RM100000002GB"]
    assert sorted(str(c["packageReferenceId"]) for c in confirmations) == ["1", "2"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert set(Shipment.objects.filter(order=order).values_list("confirmation_state", flat=True)) == {
        ConfirmationState.CONFIRMED}
    # Every exchange of the flow (LWA, SP-API, SQL, TI files) is logged without a secret or the buyer's data.
    from integration_hub.exchanges.models import Exchange
    from tests.fixtures_dynamics_sl import SL_SECRET

    address = order.address
    kept_out = [value for value in (address.name, address.line1, address.postcode, address.phone, order.buyer_email,
                                    order.buyer_name, SL_SECRET, str(mapped.refresh_token),
                                    str(mapped.lwa_client_secret)) if value and len(value) > 3]
    rows = list(Exchange.objects.all())
    assert len(rows) > 5
    for row in rows:
        text = row.request_summary + row.response_summary + row.error
        assert not [value for value in kept_out if value in text], (row.operation, text[:300])


def test_order_with_unknown_sku_is_held_and_never_reaches_the_warehouse(
        mapped, amazon_emulator, warehouse, run_repeating):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-999", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    order = Order.objects.get(amazon_order_id=order_id)
    assert order.hub_state == HubState.HELD
    assert "DEMO-SKU-999" in order.hold_reason
    assert warehouse.order_count(order_id) == 0
    assert not WorkItem.objects.filter(kind=WorkKind.SEND_ORDER).exists()


def test_warehouse_stock_minus_buffer_reaches_the_listing_with_its_handling_time(
        account, amazon_emulator, warehouse, run_repeating):
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-006", item_code="MOUSE-W", velocity_tier="fast",
                   handling_days=3)
    StockBufferFactory(account=account, seller_sku="DEMO-SKU-006", fixed_units=4)
    warehouse.add_item("MOUSE-W", on_hand=25)
    amazon_emulator.add_listing("DEMO-SKU-006", quantity=0, handling_days=3)
    run_repeating("stock.fast")
    listing = amazon_emulator.listing("DEMO-SKU-006")
    assert (listing["quantity"], listing["handling_days"]) == (21, 3)
    assert WorkItem.objects.get(kind=WorkKind.PUSH_STOCK).state == WorkState.DONE


def test_the_home_page_shows_each_tiers_stock_lag_and_a_tier_that_missed_its_run(
        account, amazon_emulator, warehouse, run_repeating, client, django_user_model):
    """Issue 11: stock sync lag per tier. The fast tier pushed through the emulator shows when it reached
    Amazon; a slow tier never pushed, and a medium tier whose last push is two intervals old, are late."""
    from integration_hub.dashboard import stock_lag

    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-006", item_code="MOUSE-W", velocity_tier="fast")
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-007", item_code="DESK-1", velocity_tier="medium")
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-008", item_code="LAMP-1", velocity_tier="slow")
    warehouse.add_item("MOUSE-W", on_hand=25)
    warehouse.add_item("DESK-1", on_hand=5)
    amazon_emulator.add_listing("DEMO-SKU-006", quantity=0)
    amazon_emulator.add_listing("DEMO-SKU-007", quantity=0)
    run_repeating("stock.fast")
    run_repeating("stock.medium")
    medium = WorkItem.objects.get(kind=WorkKind.PUSH_STOCK, key=f"{account.pk}:medium")
    WorkItem.objects.filter(pk=medium.pk).update(done_at=timezone.now() - timezone.timedelta(minutes=61))
    rows = {row.tier: row for row in stock_lag.rows([account], timezone.now())}
    assert set(rows) == {"fast", "medium", "slow"}
    assert rows["fast"].pushed_at is not None and rows["fast"].lag < timezone.timedelta(minutes=1)
    assert not rows["fast"].late
    assert rows["medium"].late and rows["slow"].late and rows["slow"].lag is None
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "x"))
    page = client.get("/").content.decode()
    table = page[page.index('id="stock-lag"'):page.index("</table>", page.index('id="stock-lag"'))]
    assert table.count('class="late"') == 2 and "never pushed" in table and "Fast" in table


def _shipped_order(mapped, amazon_emulator, warehouse, run_repeating):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1},
                                                 {"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    order = Order.objects.get(amazon_order_id=order_id)
    dispatch_in_two_packages(order, warehouse)
    return order


def test_confirmation_failing_with_5xx_is_retried_and_lands(mapped, amazon_emulator, warehouse, run_repeating, work):
    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail")
    # One package: its three quick tries stay below the circuit breaker's threshold.
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    line = Order.objects.get(amazon_order_id=order_id).lines.get()
    warehouse.dispatch(order_id, [{"tracking_number": "RM200000001GB", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    amazon_emulator.set_faults(error_rate=1.0)
    run_repeating("shipments.poll_dispatches")
    item = WorkItem.objects.get(kind=WorkKind.CONFIRM_SHIPMENT)
    assert item.state == WorkState.RETRYING and (item.attempts, item.waits) == (0, 1)
    assert amazon_emulator.confirmations(order_id) == []

    amazon_emulator.set_faults(error_rate=0.0)
    WorkItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())  # the back-off has passed
    sweep()
    work()
    item.refresh_from_db()
    assert item.state == WorkState.DONE and item.attempts == 1
    assert [c["trackingNumber"] for c in amazon_emulator.confirmations(order_id)] == ["RM200000001GB"]
    assert Shipment.objects.get(order__amazon_order_id=order_id).confirmation_state == ConfirmationState.CONFIRMED


def test_unmapped_carrier_is_a_dead_letter_and_lands_after_the_map_is_fixed(
        mapped, amazon_emulator, warehouse, run_repeating, work):
    order = _shipped_order(mapped, amazon_emulator, warehouse, run_repeating)
    run_repeating("shipments.poll_dispatches")
    dead = list(WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT))
    assert {item.state for item in dead} == {WorkState.DEAD}
    assert dead[0].last_error == f"no carrier map for '{warehouse.ship_method}'"
    assert {s.confirmation_state for s in Shipment.objects.filter(order=order)} == {ConfirmationState.FAILED}

    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Parcelforce")  # retries them
    assert {item.state for item in WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT)} == {WorkState.PENDING}
    work()
    confirmations = amazon_emulator.confirmations(order.amazon_order_id)
    assert [c["carrierCode"] for c in confirmations] == ["Parcelforce", "Parcelforce"]
    assert {s.confirmation_state for s in Shipment.objects.filter(order=order)} == {ConfirmationState.CONFIRMED}


def test_many_stock_changes_with_an_unknown_handling_time_still_reach_amazon(account, amazon_emulator, warehouse,
                                                                          run_repeating, work):
    """A SKU link without a handling time must not block the feed for the rest of its tier."""
    for n in range(12):
        sku, item = f"FEED-SKU-{n:02d}", f"FEED-ITEM-{n:02d}"
        SkuLinkFactory(account=account, seller_sku=sku, item_code=item, velocity_tier="medium",
                       handling_days=None if n == 0 else 2)
        amazon_emulator.add_listing(sku, quantity=0, handling_days=3)
        warehouse.add_item(item, on_hand=7)
    amazon_emulator.set_faults(feed_polls_to_done=1, quota_multiplier=100)
    run_repeating("stock.medium")
    run_repeating("stock.follow_feeds")
    assert amazon_emulator.listing("FEED-SKU-00") == {**amazon_emulator.listing("FEED-SKU-00"),
                                                      "quantity": 7, "handling_days": 3}
    assert amazon_emulator.listing("FEED-SKU-05")["quantity"] == 7
    assert amazon_emulator.listing("FEED-SKU-05")["handling_days"] == 2


def test_an_order_the_warehouse_cancelled_shows_as_lost_before_its_ship_by(
        mapped, amazon_emulator, warehouse, backoffice, run_repeating, client_as, ops_user):
    kept = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    lost = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    soon = timezone.now() + timezone.timedelta(hours=3)
    Order.objects.filter(amazon_order_id__in=[kept, lost]).update(latest_ship_date=soon)
    backoffice.cancel_sales_order(lost)  # someone on the warehouse side cancels it; Amazon still expects it

    run_repeating("orders.watch_back_office")
    assert list(Order.objects.lost_in_back_office().values_list("amazon_order_id", flat=True)) == [lost]
    assert Order.objects.get(amazon_order_id=kept).back_office_status not in ("", "CANCELLED", "NOT FOUND")
    html = client_as(ops_user).get("/").content.decode()
    assert 'id="lost-count">1<' in html


def test_an_order_dispatched_in_the_back_office_without_a_shipment_in_the_hub_is_flagged(
        mapped, amazon_emulator, warehouse, run_repeating, client_as, ops_user):
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    Order.objects.filter(amazon_order_id=order_id).update(latest_ship_date=timezone.now() + timezone.timedelta(hours=2))
    line = Order.objects.get(amazon_order_id=order_id).lines.get()
    # Shipped on the floor; its dispatch never reaches the hub (no poll here, as if the poll missed it).
    warehouse.dispatch(order_id, [{"tracking_number": "RM500000001GB", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)

    run_repeating("orders.watch_back_office")
    assert [o.amazon_order_id for o in Order.objects.dispatched_unrecorded()] == [order_id]
    html = client_as(ops_user).get("/").content.decode()
    assert 'id="unrecorded"' in html and order_id in html.split('id="unrecorded"')[1]

    run_repeating("shipments.poll_dispatches")  # once the dispatch is read, it is no longer flagged
    assert not Order.objects.dispatched_unrecorded().exists()


def test_a_package_dispatched_before_its_tracking_number_waits_visibly_then_is_confirmed(
        mapped, amazon_emulator, warehouse, sl_emulator, run_repeating, client_as, ops_user):
    from integration_hub.shipments.models import UnmatchedDispatch

    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail")
    order_id = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1},
                                                 {"SellerSKU": "DEMO-SKU-004", "QuantityOrdered": 1}])
    import_orders(run_repeating)
    order = Order.objects.get(amazon_order_id=order_id)
    first, second = order.lines.order_by("sku")
    _, untracked = warehouse.dispatch(order_id, [
        {"tracking_number": "RM100000001GB", "lines": {first.order_item_id: 1}},
        {"tracking_number": "", "lines": {second.order_item_id: 1}},
    ], ship_method=warehouse.ship_method)
    run_repeating("shipments.poll_dispatches")
    assert [c["trackingNumber"] for c in amazon_emulator.confirmations(order_id)] == ["RM100000001GB"]
    assert UnmatchedDispatch.objects.get().reason == "tracking"
    page = client_as(ops_user).get("/").content.decode()
    assert "A package has no tracking number yet" in page and order_id in page

    sl_emulator.set_tracking(untracked, "RM100000002GB")
    UnmatchedDispatch.objects.update(last_tried_at=timezone.now() - timezone.timedelta(minutes=5))
    run_repeating("shipments.poll_dispatches")
    run_repeating("shipments.poll_dispatches")
    confirmations = amazon_emulator.confirmations(order_id)
    assert sorted((c["trackingNumber"], str(c["packageReferenceId"])) for c in confirmations) == [
        ("RM100000001GB", "1"), ("RM100000002GB", "2")]
    assert not UnmatchedDispatch.objects.exists()


def test_a_workers_batch_of_orders_asks_clarus_once_for_existing_goods_outs(amazon_emulator, clarus_connection,
                                                                            clarus_tenant, run_repeating, work):
    """Found with bench_pipeline: each send asked Clarus for its reference before creating (two calls per
    order). A worker's batch asks once; an order already there (a lost reply) is still not created again."""
    from integration_hub.exchanges.models import Exchange
    from tests.factories import SellerAccountFactory

    account = SellerAccountFactory(
        endpoint=amazon_emulator.url, token_url=amazon_emulator.url + "/auth/o2/token",
        seller_id=amazon_emulator.seller_id, marketplace_ids=["A1F83G8C2ARO7P"],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, back_office=clarus_connection)
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="BOTTLE-750")
    clarus_tenant.add_item("BOTTLE-750", on_hand=50)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=clarus_tenant.ship_method)
    ids = [amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}]) for _ in range(5)]
    clarus_tenant.drop_next_create_response()  # the first create lands, its reply is lost

    run_repeating("orders.import")
    assert WorkItem.objects.filter(kind=WorkKind.SEND_ORDER, state=WorkState.RETRYING).count() == 1
    WorkItem.objects.filter(state=WorkState.RETRYING).update(next_attempt_at=timezone.now())
    sweep()
    work()
    assert Order.objects.filter(amazon_order_id__in=ids, hub_state=HubState.SENT).count() == 5
    assert all(clarus_tenant.order_count(order_id) == 1 for order_id in ids)
    calls = Exchange.objects.filter(connection=clarus_connection)
    assert calls.filter(operation="find_goods_outs").exists()
    assert calls.filter(operation="find_goods_out").count() <= 1  # only the retry of the lost reply looks alone
    assert calls.filter(operation="create_goods_out").count() == 5
