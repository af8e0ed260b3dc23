"""Dispatch lines to Amazon quantities: one line in several dispatch lines, packs split over packages."""

import pytest
from django.utils import timezone

from connectors.base import Dispatch, DispatchLine, DispatchPackage
from integration_hub.orders.choices import OrderStatus
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment, ShipmentLine
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import run_work_item
from integration_hub.sync.models import WorkItem
from tests.factories import CarrierMapFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def dispatch(order, *packages):
    return Dispatch(dispatch_ref="D1", amazon_order_id=order.amazon_order_id, back_office_ref="SO1", carrier="RM",
                    ship_method="RM24", shipped_at=timezone.now(), packages=list(packages))


def package(ref, line, *quantities):
    return DispatchPackage(package_ref=ref, tracking_number=f"T-{ref}",
                           lines=[DispatchLine(line.order_item_id, "X", quantity) for quantity in quantities])


def record(order, *packages):
    from integration_hub.shipments import recording

    recording.record_dispatches(order.account.back_office, [dispatch(order, *packages)])
    return list(ShipmentLine.objects.order_by("shipment__package_reference_id").values_list("quantity", flat=True))


def confirm_all():
    for item in WorkItem.objects.filter(kind=WorkKind.CONFIRM_SHIPMENT).order_by("pk"):
        run_work_item(item.pk)


def test_one_line_picked_from_two_bins_in_one_package_confirms_the_sum(fakes):
    CarrierMapFactory()
    order = OrderFactory()
    line = OrderLineFactory(order=order, quantity_ordered=3)
    assert record(order, package("P1", line, 2, 1)) == [3]
    assert ShipmentLine.objects.get().units == 3
    confirm_all()
    (_, _, confirmed), = fakes.amazon.calls_of("confirm_shipment")
    assert confirmed.items == [(line.order_item_id, 3)]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_packs_split_over_two_packages_are_counted_once_each(fakes):
    CarrierMapFactory()
    order = OrderFactory()
    line = OrderLineFactory(order=order, quantity_ordered=2, pack_multiplier=6)  # 2 six-packs = 12 units
    assert record(order, package("P1", line, 7), package("P2", line, 5)) == [1, 1]
    confirm_all()
    assert sum(package.items[0][1] for _, _, package in fakes.amazon.calls_of("confirm_shipment")) == 2


def test_package_with_only_part_of_a_pack_has_nothing_to_confirm(fakes):
    CarrierMapFactory()
    order = OrderFactory()
    line = OrderLineFactory(order=order, quantity_ordered=2, pack_multiplier=6)
    assert record(order, package("P1", line, 5), package("P2", line, 7)) == [0, 2]
    confirm_all()
    (_, _, confirmed), = fakes.amazon.calls_of("confirm_shipment")
    assert confirmed.tracking_number == "T-P2" and confirmed.items == [(line.order_item_id, 2)]
    assert set(Shipment.objects.values_list("confirmation_state", flat=True)) == {ConfirmationState.CONFIRMED}
    line.refresh_from_db()
    assert line.quantity_shipped == 2


def test_units_beyond_what_was_ordered_are_not_confirmed(fakes):
    order = OrderFactory()
    line = OrderLineFactory(order=order, quantity_ordered=1, pack_multiplier=6)
    assert record(order, package("P1", line, 6)) == [1]
    assert record(order, package("P2", line, 6)) == [1, 0]
