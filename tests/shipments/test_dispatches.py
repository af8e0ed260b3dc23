import datetime as dt

import pytest
from django.utils import timezone

from connectors.base import ConnectorError, Dispatch, DispatchLine, DispatchPackage
from integration_hub.orders.choices import OrderStatus
from integration_hub.shipments import recording
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment, UnmatchedDispatch
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import retry, run_work_item
from integration_hub.sync.models import Cursor, WorkItem
from tests.factories import CarrierMapFactory, OrderFactory, OrderLineFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    order = OrderFactory(hub_state="sent", back_office_ref="SO1")
    OrderLineFactory(order=order, order_item_id="11111111111111", sku="A", item_code="ITEM-A", quantity_ordered=2)
    OrderLineFactory(order=order, order_item_id="22222222222222", sku="B", item_code="ITEM-B", quantity_ordered=1)
    return order


def two_packages(order, ref="DSP-1", ship_method="RM24"):
    return Dispatch(
        dispatch_ref=ref, amazon_order_id=order.amazon_order_id, back_office_ref="SO1", carrier="Royal Mail",
        ship_method=ship_method, shipped_at=timezone.now(),
        packages=[DispatchPackage("P1", "TRACK-1", [DispatchLine("11111111111111", "ITEM-A", 2)]),
                  DispatchPackage("P2", "TRACK-2", [DispatchLine("22222222222222", "ITEM-B", 1)])],
    )


def confirm_all():
    for item in WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT):
        run_work_item(item.pk)


def test_same_dispatch_twice_gives_the_same_shipments_and_one_confirmation_each(order, fakes):
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail", shipping_method="Tracked 24")
    first = recording.record_dispatches(order.account.back_office, [two_packages(order)])
    confirm_all()
    second = recording.record_dispatches(order.account.back_office, [two_packages(order)])
    confirm_all()
    assert [s.pk for s in first] == [s.pk for s in second]
    assert sorted(Shipment.objects.filter(order=order).values_list("package_reference_id", "tracking_number")) == [
        (1, "TRACK-1"), (2, "TRACK-2")]
    calls = fakes.amazon.calls_of("confirm_shipment")
    assert len(calls) == 2
    packages = {package.tracking_number: package for _, _, package in calls}
    assert packages["TRACK-1"].carrier_code == "Royal Mail"
    assert packages["TRACK-1"].items == [("11111111111111", 2)]
    assert packages["TRACK-2"].package_reference_id == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert sorted(order.lines.values_list("quantity_shipped", flat=True)) == [1, 2]


def test_first_package_confirmed_makes_the_order_partially_shipped(order, fakes):
    CarrierMapFactory(warehouse_ship_method="RM24")
    dispatch = two_packages(order)
    dispatch.packages = dispatch.packages[:1]
    recording.record_dispatches(order.account.back_office, [dispatch])
    confirm_all()
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED


def test_pack_multiplier_converts_warehouse_units_back_to_amazon_units(fakes):
    order = OrderFactory(hub_state="sent")
    OrderLineFactory(order=order, order_item_id="33333333333333", item_code="CAN", quantity_ordered=2,
                     pack_multiplier=6)
    dispatch = Dispatch("D9", order.amazon_order_id, "SO9", "DPD", "NEXT", timezone.now(),
                        [DispatchPackage("P1", "T9", [DispatchLine("33333333333333", "CAN", 12)])])
    (shipment,) = recording.record_dispatches(order.account.back_office, [dispatch])
    assert shipment.lines.get().quantity == 2


def test_missing_carrier_map_is_a_dead_letter_that_a_retry_confirms_after_the_map_is_added(order, fakes):
    recording.record_dispatches(order.account.back_office, [two_packages(order, ship_method="COURIER-X")])
    confirm_all()
    shipment = Shipment.objects.get(order=order, package_reference_id=1)
    item = WorkItem.objects.get(kind=WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk))
    assert item.state == WorkState.DEAD
    assert item.last_error == "no carrier map for 'COURIER-X'"
    assert shipment.confirmation_state == ConfirmationState.FAILED
    assert "COURIER-X" in shipment.last_error

    CarrierMapFactory(warehouse_ship_method="COURIER-X", carrier_code="DPD")
    assert retry(item)
    run_work_item(item.pk)
    shipment.refresh_from_db()
    assert shipment.confirmation_state == ConfirmationState.CONFIRMED and shipment.last_error == ""
    assert fakes.amazon.calls_of("confirm_shipment")[0][2].carrier_code == "DPD"


def test_transient_failure_is_retried_and_the_shipment_stays_pending(order, fakes):
    CarrierMapFactory(warehouse_ship_method="RM24")
    fakes.amazon.fail["confirm_shipment"] = [ConnectorError("503 Service Unavailable", permanent=False, status=503)]
    (shipment, _) = recording.record_dispatches(order.account.back_office, [two_packages(order)])
    item = WorkItem.objects.get(kind=WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk))
    run_work_item(item.pk)
    item.refresh_from_db()
    assert item.state == WorkState.RETRYING and "503" in item.last_error
    WorkItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    run_work_item(item.pk)
    shipment.refresh_from_db()
    assert shipment.confirmation_state == ConfirmationState.CONFIRMED


def test_dispatch_for_unknown_order_is_kept_and_recorded_once_the_order_exists(fakes):
    stranger = OrderFactory.build(amazon_order_id="204-0000000-0000001")
    order = OrderFactory(amazon_order_id="204-0000000-0000002", hub_state="sent")
    OrderLineFactory(order=order, order_item_id="11111111111111")
    connection = order.account.back_office
    dispatch = Dispatch("D1", stranger.amazon_order_id, "SO5", "RM", "RM24", timezone.now(),
                        [DispatchPackage("P1", "T1", [DispatchLine("11111111111111", "X", 1)])])
    assert recording.record_dispatches(connection, [dispatch]) == []
    recording.record_dispatches(connection, [dispatch])
    assert UnmatchedDispatch.objects.count() == 1
    Cursor.write(f"dispatches:{connection.pk}", "0")
    recording.poll_dispatches(connection)
    assert UnmatchedDispatch.objects.get().attempts == 1

    order.amazon_order_id = stranger.amazon_order_id  # the order arrives in the hub
    order.save()
    (shipment,) = recording.replay_unmatched(connection)
    assert shipment.tracking_number == "T1" and shipment.shipped_at == dispatch.shipped_at
    assert not UnmatchedDispatch.objects.exists()


def test_poll_reads_pages_and_saves_the_cursor_after_recording(order, fakes):
    second = two_packages(order, "D2")
    for number, package in enumerate(second.packages, start=3):
        package.package_ref, package.tracking_number = f"P{number}", f"TRACK-{number}"
    fakes.back_office.dispatch_pages = [[two_packages(order, "D1")], [second]]
    connection = order.account.back_office
    assert recording.poll_dispatches(connection) == 2
    assert Cursor.read(f"dispatches:{connection.pk}") == "2"
    assert Shipment.objects.filter(order=order).count() == 4
    assert recording.poll_dispatches(connection) == 0


def test_at_risk_lists_unconfirmed_shipments_due_soon_most_urgent_first(fakes):
    now = timezone.now()
    late = ShipmentFactory(order=OrderFactory(latest_ship_date=now - dt.timedelta(hours=1)))
    soon = ShipmentFactory(order=OrderFactory(latest_ship_date=now + dt.timedelta(hours=2)))
    ShipmentFactory(order=OrderFactory(latest_ship_date=now + dt.timedelta(days=2)))
    ShipmentFactory(order=OrderFactory(latest_ship_date=now), confirmation_state="confirmed", confirmed_at=now)
    assert list(Shipment.objects.at_risk(now, hours=4)) == [late, soon]


def test_sent_order_past_ship_by_without_dispatch_is_late(fakes):
    from integration_hub.orders.models import Order

    now = timezone.now()
    late = OrderFactory(hub_state="sent", latest_ship_date=now - dt.timedelta(hours=1))
    ShipmentFactory(order=OrderFactory(hub_state="sent", latest_ship_date=now - dt.timedelta(hours=1)))
    OrderFactory(hub_state="sent", latest_ship_date=now + dt.timedelta(hours=1))
    assert list(Order.objects.late_to_dispatch(now)) == [late]


def untracked_second_package(order, ref="DSP-7"):
    dispatch = two_packages(order, ref=ref)
    dispatch.packages[1].tracking_number = ""
    return dispatch


def test_a_package_without_tracking_waits_visibly_and_is_confirmed_once_it_has_one(order, fakes):
    CarrierMapFactory(warehouse_ship_method="RM24", carrier_code="Royal Mail", shipping_method="Tracked 24")
    connection = order.account.back_office
    recording.record_dispatches(connection, [untracked_second_package(order)])
    confirm_all()
    # The tracked package goes now; the other is neither confirmed without tracking nor dropped.
    assert list(Shipment.objects.values_list("tracking_number", flat=True)) == ["TRACK-1"]
    waiting = UnmatchedDispatch.objects.get()
    assert (waiting.reason, waiting.amazon_order_id) == ("tracking", order.amazon_order_id)
    assert len(fakes.amazon.calls_of("confirm_shipment")) == 1
    # Read again at the next poll once REREAD_EVERY has passed; by then the warehouse has the number.
    fakes.back_office.dispatch_pages = [[two_packages(order, ref="DSP-7")]]
    later = timezone.now() + recording.REREAD_EVERY
    recording.replay_unmatched(connection, now=later - dt.timedelta(seconds=30))
    assert ("dispatches_for_order", order.amazon_order_id) not in fakes.back_office.calls  # not yet
    recording.replay_unmatched(connection, now=later + dt.timedelta(seconds=1))
    confirm_all()
    assert sorted(Shipment.objects.values_list("package_reference_id", "tracking_number")) == [
        (1, "TRACK-1"), (2, "TRACK-2")]
    assert not UnmatchedDispatch.objects.exists()
    assert len(fakes.amazon.calls_of("confirm_shipment")) == 2


def test_a_dispatch_without_packages_waits_until_it_has_them(order, fakes):
    connection = order.account.back_office
    empty = two_packages(order, ref="DSP-8")
    empty.packages = []
    assert recording.record_dispatches(connection, [empty]) == []
    assert UnmatchedDispatch.objects.get().reason == "packages"
    assert not WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT).exists()


def test_a_package_read_again_under_another_dispatch_reference_is_not_doubled(order, fakes):
    connection = order.account.back_office
    recording.record_dispatches(connection, [untracked_second_package(order, ref="S1")])
    regrouped = two_packages(order, ref="S1+S2")  # SL groups an order's shippers when read together
    recording.record_dispatches(connection, [regrouped])
    assert sorted(Shipment.objects.values_list("package_ref", "tracking_number")) == [
        ("P1", "TRACK-1"), ("P2", "TRACK-2")]


def test_a_waiting_package_stops_waiting_when_the_order_is_shipped_on_amazon(order, fakes):
    connection = order.account.back_office
    recording.record_dispatches(connection, [untracked_second_package(order)])
    order.status = OrderStatus.SHIPPED
    order.save()
    recording.replay_unmatched(connection, now=timezone.now() + recording.REREAD_EVERY * 2)
    assert not UnmatchedDispatch.objects.exists()
    assert ("dispatches_for_order", order.amazon_order_id) not in fakes.back_office.calls


def test_a_dispatch_recorded_in_full_forgets_only_its_own_waiting_copy(order, fakes):
    connection = order.account.back_office
    other = OrderFactory(account=order.account, hub_state="sent", back_office_ref="SO2")
    OrderLineFactory(order=other, order_item_id="11111111111111", sku="A", item_code="ITEM-A", quantity_ordered=2)
    OrderLineFactory(order=other, order_item_id="22222222222222", sku="B", item_code="ITEM-B", quantity_ordered=1)
    recording.record_dispatches(connection, [untracked_second_package(order, ref="DSP-7"),
                                             untracked_second_package(other, ref="DSP-9")])
    assert UnmatchedDispatch.objects.count() == 2
    recording.record_dispatches(connection, [two_packages(order, ref="DSP-7")])  # tracked in full now
    assert list(UnmatchedDispatch.objects.values_list("dispatch_ref", "amazon_order_id")) == [
        ("DSP-9", other.amazon_order_id)]
