"""Confirmations and dispatches that got stuck: carrier maps added later, dispatches that never match."""

import datetime as dt
import logging

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.base import Dispatch, DispatchLine, DispatchPackage
from integration_hub.orders.choices import OrderStatus
from integration_hub.shipments import recording, services
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import UnmatchedDispatch
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.engine import run_work_item
from integration_hub.sync.models import WorkItem
from tests.factories import BackOfficeConnectionFactory, CarrierMapFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def ship(order, ship_method, ref="D1"):
    line = order.lines.first()
    dispatch = Dispatch(ref, order.amazon_order_id, "SO1", "Courier", ship_method, timezone.now(),
                        [DispatchPackage("P1", f"T-{ref}", [DispatchLine(line.order_item_id, "X", 1)])])
    (shipment,) = recording.record_dispatches(order.account.back_office, [dispatch])
    item = WorkItem.objects.get(kind=WorkKind.CONFIRM_SHIPMENT, key=str(shipment.pk))
    run_work_item(item.pk)
    return refreshed(shipment, item)


def refreshed(*rows):
    for row in rows:
        row.refresh_from_db()
    return rows


def test_adding_the_missing_carrier_map_retries_the_dead_confirmations(fakes, django_capture_on_commit_callbacks):
    order = OrderLineFactory().order
    other = OrderLineFactory().order
    shipment, item = ship(order, "COURIER-X")
    _, other_item = ship(other, "COURIER-Y")
    assert item.state == WorkState.DEAD and shipment.confirmation_state == ConfirmationState.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        CarrierMapFactory(warehouse_ship_method="COURIER-X", carrier_code="DPD")

    shipment, item, other_item = refreshed(shipment, item, other_item)
    assert item.state == WorkState.PENDING and shipment.confirmation_state == ConfirmationState.PENDING
    assert other_item.state == WorkState.DEAD  # another ship method: still waiting for its own map
    run_work_item(item.pk)
    shipment, order = refreshed(shipment, order)
    assert shipment.confirmation_state == ConfirmationState.CONFIRMED and order.status == OrderStatus.SHIPPED


def test_an_inactive_carrier_map_retries_nothing(fakes, django_capture_on_commit_callbacks):
    shipment, item = ship(OrderLineFactory().order, "COURIER-X")
    with django_capture_on_commit_callbacks(execute=True):
        CarrierMapFactory(warehouse_ship_method="COURIER-X", active=False)
    (item,) = refreshed(item)
    assert item.state == WorkState.DEAD


def test_cancellation_imported_during_the_amazon_call_is_kept(fakes):
    CarrierMapFactory()
    order = OrderLineFactory().order
    fakes.amazon.confirm_shipment = lambda *args: type(order).objects.filter(pk=order.pk).update(
        status=OrderStatus.CANCELLED)
    shipment, _ = ship(order, "RM24")
    shipment, order = refreshed(shipment, order)
    assert shipment.confirmation_state == ConfirmationState.CONFIRMED
    assert order.status == OrderStatus.CANCELLED


def unmatched(connection, n, received_at=None):
    row = UnmatchedDispatch.objects.create(connection=connection, amazon_order_id=f"999-0000000-{n:07d}",
                                           dispatch_ref=f"WEB{n}", payload={})
    if received_at:
        UnmatchedDispatch.objects.filter(pk=row.pk).update(received_at=received_at)
    return row


def test_replay_reads_the_waiting_dispatches_in_a_few_queries_however_many(django_assert_max_num_queries):
    connection = BackOfficeConnectionFactory()
    for n in range(6):
        unmatched(connection, n)
    with django_assert_max_num_queries(4):
        assert recording.replay_unmatched(connection) == []
    assert set(UnmatchedDispatch.objects.values_list("attempts", flat=True)) == {1}


def test_dispatches_unmatched_for_too_long_are_dropped_with_a_log_line(caplog):
    connection = BackOfficeConnectionFactory()
    old = unmatched(connection, 1, received_at=timezone.now() - recording.UNMATCHED_KEPT_FOR - dt.timedelta(hours=1))
    fresh = unmatched(connection, 2, received_at=timezone.now() - dt.timedelta(days=1))
    with caplog.at_level(logging.WARNING, logger=services.__name__):
        recording.replay_unmatched(connection)
    assert list(UnmatchedDispatch.objects.values_list("pk", "attempts")) == [(fresh.pk, 1)]
    assert "dropped 1 dispatches" in caplog.text
    assert not UnmatchedDispatch.objects.filter(pk=old.pk).exists()


def test_shipments_page_lists_unmatched_dispatches_without_a_query_per_row(ops_user, client_as):
    client = client_as(ops_user)
    unmatched(BackOfficeConnectionFactory(), 0)

    def queries():
        with CaptureQueriesContext(db_connection) as captured:
            assert client.get("/shipments/").status_code == 200
        return len(captured)

    one = queries()
    for n in range(1, 4):
        unmatched(BackOfficeConnectionFactory(), n)
    assert queries() == one
