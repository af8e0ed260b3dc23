"""The Clarus "sales order completed" webhook: secret path, guards, de-duplication, answered at once
(202) with the GraphQL re-read queued on the shipments lane."""

import copy
import json

import pytest
from django.urls import reverse

from connectors.clarus.emulator import ClarusEmulator
from connectors.models import InboundEvent
from integration_hub.exchanges.choices import Direction
from integration_hub.exchanges.models import Exchange
from integration_hub.shipments.models import Shipment, UnmatchedDispatch
from integration_hub.sync import engine
from integration_hub.sync.models import WorkItem
from tests.connectors.backoffice_contract import amazon_order_id, sales_order
from tests.factories import OrderFactory, OrderLineFactory, SellerAccountFactory
from tests.fixtures_clarus import clarus_connection_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(clarus_backoffice, clarus_connection, clarus_tenant):
    """An order known to the hub, sent to Clarus and dispatched there in two packages."""
    order_id = amazon_order_id()
    hub_order = OrderFactory(account=SellerAccountFactory(back_office=clarus_connection), amazon_order_id=order_id)
    OrderLineFactory(order=hub_order, order_item_id="70000000000001", quantity_ordered=2)
    OrderLineFactory(order=hub_order, order_item_id="70000000000002", quantity_ordered=1)
    clarus_tenant.add_item("HOOK-1", on_hand=5)
    clarus_tenant.add_item("HOOK-2", on_hand=5)
    clarus_backoffice.create_sales_order(sales_order(order_id, clarus_tenant.ship_method, [
        ("70000000000001", "HOOK-1", 2), ("70000000000002", "HOOK-2", 1)]))
    clarus_tenant.dispatch(order_id, [
        {"tracking_number": "RM-PARCEL-1", "lines": {"70000000000001": 2}},
        {"tracking_number": "RM-PARCEL-2", "lines": {"70000000000002": 1}},
    ])
    return hub_order


def reread():
    """Run the shipments lane's due work (the queued re-reads) as its worker would."""
    return engine.run_next("shipments")


def deliver(client, connection, resource, *, subdomain=None, token=None):
    body = json.dumps({"event": "sales_order_completed", "data": resource})
    headers = {"X-ClarusWMS-Subdomain": connection.options["subdomain"] if subdomain is None else subdomain,
               "X-ClarusWMS-Automation-ID": "101"}
    url = reverse("connectors:clarus-webhook", args=[token or connection.webhook_token])
    return client.post(url, body, content_type="application/json", headers=headers)


def test_dispatch_webhook_records_one_shipment_per_package(client, clarus_connection, clarus_tenant, shipped):
    response = deliver(client, clarus_connection, clarus_tenant.goods_out(shipped.amazon_order_id))
    assert response.status_code == 202, response.content
    assert not Shipment.objects.exists()  # answered before the work: the re-read is queued
    item = WorkItem.objects.get(kind="read_dispatch")
    assert item.priority_at == shipped.latest_ship_date  # as urgent as the order it ships
    reread()
    packages = {s.tracking_number: s for s in Shipment.objects.filter(order=shipped)}
    assert set(packages) == {"RM-PARCEL-1", "RM-PARCEL-2"}
    assert packages["RM-PARCEL-1"].ship_method == "Royal Mail Tracked 24"
    assert packages["RM-PARCEL-1"].carrier == "Royal Mail"
    assert [(line.order_line.order_item_id, line.quantity) for line in packages["RM-PARCEL-1"].lines.all()] == \
        [("70000000000001", 2)]


def test_duplicate_delivery_is_acknowledged_without_reading_clarus_again(client, clarus_connection, clarus_tenant,
                                                                         shipped):
    resource = clarus_tenant.goods_out(shipped.amazon_order_id)
    assert deliver(client, clarus_connection, resource).status_code == 202
    reread()
    again = deliver(client, clarus_connection, resource)
    assert again.status_code == 200
    assert "duplicate" in again.json()["result"]
    assert Exchange.objects.filter(connection=clarus_connection, operation="goods_out_shipments").count() == 1
    assert Shipment.objects.filter(order=shipped).count() == 2


def test_payload_is_not_trusted_tracking_comes_from_the_graphql_reread(client, clarus_connection, clarus_tenant,
                                                                       shipped):
    forged = copy.deepcopy(clarus_tenant.goods_out(shipped.amazon_order_id))
    forged["relationships"]["shipments"] = {"data": [{"type": "shipments", "id": 1, "attributes": {
        "tracking_number": "FORGED", "packages": [{"tracking_number": "FORGED"}]}}]}
    forged["attributes"]["goods_out_status_code"] = "COMPLETED"
    assert deliver(client, clarus_connection, forged).status_code == 202
    reread()
    assert sorted(Shipment.objects.filter(order=shipped).values_list("tracking_number", flat=True)) == \
        ["RM-PARCEL-1", "RM-PARCEL-2"]


def test_event_ahead_of_the_dispatch_is_dropped_then_acted_on_when_redelivered(client, clarus_backoffice,
                                                                               clarus_connection, clarus_tenant):
    order_id = amazon_order_id()
    clarus_tenant.add_item("EARLY-1", on_hand=3)
    clarus_backoffice.create_sales_order(sales_order(order_id, clarus_tenant.ship_method,
                                                     [("71000000000001", "EARLY-1", 1)]))
    early = clarus_tenant.goods_out(order_id)
    early["attributes"]["goods_out_status_code"] = "COMPLETED"  # claims a dispatch Clarus does not show yet
    assert deliver(client, clarus_connection, early).status_code == 202
    reread()
    assert not UnmatchedDispatch.objects.exists() and not Shipment.objects.exists()
    clarus_tenant.dispatch(order_id, [{"tracking_number": "LATE-1", "lines": {"71000000000001": 1}}])
    assert deliver(client, clarus_connection, early).status_code == 202  # the same delivery, retried
    reread()
    assert UnmatchedDispatch.objects.filter(amazon_order_id=order_id).count() == 1


def test_dispatch_for_an_order_the_hub_does_not_know_yet_is_kept(client, clarus_backoffice, clarus_connection,
                                                                 clarus_tenant):
    order_id = amazon_order_id()
    clarus_tenant.add_item("UNKNOWN-1", on_hand=3)
    clarus_backoffice.create_sales_order(sales_order(order_id, clarus_tenant.ship_method,
                                                     [("72000000000001", "UNKNOWN-1", 1)]))
    clarus_tenant.dispatch(order_id)
    assert deliver(client, clarus_connection, clarus_tenant.goods_out(order_id)).status_code == 202
    reread()
    kept = UnmatchedDispatch.objects.get(amazon_order_id=order_id)
    assert kept.payload["packages"][0]["lines"][0]["line_ref"] == "72000000000001"


def test_stale_event_after_a_later_one_changes_nothing(client, clarus_backoffice, clarus_connection,
                                                       clarus_tenant):
    order_id = amazon_order_id()
    hub_order = OrderFactory(account=SellerAccountFactory(back_office=clarus_connection), amazon_order_id=order_id)
    OrderLineFactory(order=hub_order, order_item_id="73000000000001", quantity_ordered=2)
    clarus_tenant.add_item("SPLIT-1", on_hand=3)
    clarus_backoffice.create_sales_order(sales_order(order_id, clarus_tenant.ship_method,
                                                     [("73000000000001", "SPLIT-1", 2)]))
    clarus_tenant.dispatch(order_id, [{"tracking_number": "PART-1", "lines": {"73000000000001": 1}}], complete=False)
    stale = clarus_tenant.goods_out(order_id)
    clarus_tenant.dispatch(order_id, [{"tracking_number": "PART-2", "lines": {"73000000000001": 1}}])
    assert deliver(client, clarus_connection, clarus_tenant.goods_out(order_id)).status_code == 202
    reread()
    assert deliver(client, clarus_connection, stale).status_code == 202
    reread()
    assert sorted(Shipment.objects.filter(order=hub_order).values_list("tracking_number", "package_reference_id")) \
        == [("PART-1", 1), ("PART-2", 2)]


def test_stock_events_are_acknowledged_and_ignored(client, clarus_connection):
    response = deliver(client, clarus_connection, {"type": "stock_balances", "id": 5, "attributes": {}})
    assert response.status_code == 200
    assert "ignored" in response.json()["result"]
    assert not InboundEvent.objects.exists()


def test_unknown_token_is_404_and_get_is_405(client, clarus_connection):
    assert deliver(client, clarus_connection, {"type": "goods_outs", "id": 1}, token="not-a-token").status_code == 404
    url = reverse("connectors:clarus-webhook", args=[clarus_connection.webhook_token])
    assert client.get(url).status_code == 405


def test_delivery_for_another_subdomain_or_without_the_header_is_rejected(client, clarus_connection):
    resource = {"type": "goods_outs", "id": 1, "attributes": {}}
    assert deliver(client, clarus_connection, resource, subdomain="someone-else").status_code == 400
    assert deliver(client, clarus_connection, resource, subdomain="").status_code == 400


def test_inbound_call_is_logged_without_buyer_data(client, clarus_connection, clarus_tenant, shipped):
    deliver(client, clarus_connection, clarus_tenant.goods_out(shipped.amazon_order_id))
    row = Exchange.objects.get(connection=clarus_connection, direction=Direction.INBOUND)
    assert row.operation == "webhook" and row.correlation_id == shipped.amazon_order_id
    assert row.http_status == 202
    assert shipped.amazon_order_id in row.request_summary
    assert "Jane Buyer" not in row.request_summary and "LS1 4AB" not in row.request_summary


def test_failed_reread_waits_and_is_retried_by_the_engine(client, clarus_emulator, clarus_tenant,
                                                           clarus_connection, shipped):
    resource = clarus_tenant.goods_out(shipped.amazon_order_id)
    clarus_connection.endpoint = "http://127.0.0.1:9"  # nothing listens on the discard port
    clarus_connection.options = {**clarus_connection.options, "retries": 0}
    clarus_connection.save()
    assert deliver(client, clarus_connection, resource).status_code == 202  # Clarus is answered at once
    reread()
    item = WorkItem.objects.get(kind="read_dispatch")
    assert item.state == "retrying" and item.attempts == 0  # a transient failure uses no attempt
    assert not Shipment.objects.exists()
    clarus_connection.endpoint = clarus_emulator.url
    clarus_connection.save()
    WorkItem.objects.filter(pk=item.pk).update(next_attempt_at=item.created_at)
    reread()
    assert Shipment.objects.filter(order=shipped).count() == 2


@pytest.mark.django_db(transaction=True)
def test_emulator_webhooks_with_duplicates_and_reordering_reach_the_hub_once(live_server):
    """End to end over real sockets: the emulator's seeded chaos duplicates and reorders deliveries."""
    emulator = ClarusEmulator(seed=7).start()
    try:
        tenant = emulator.add_tenant("chaos", "chaos-client", "chaos-secret")
        connection = clarus_connection_for(emulator, tenant)
        tenant.set_webhook_url(live_server.url + reverse("connectors:clarus-webhook", args=[connection.webhook_token]))
        from connectors.clarus.client import ClarusBackOffice

        backoffice = ClarusBackOffice(connection)
        account = SellerAccountFactory(back_office=connection)
        tenant.add_item("CHAOS-1", on_hand=50)
        order_ids = []
        for n in range(6):
            order_id = amazon_order_id()
            OrderLineFactory(order=OrderFactory(account=account, amazon_order_id=order_id),
                             order_item_id=f"7400000000000{n}")
            backoffice.create_sales_order(sales_order(order_id, tenant.ship_method,
                                                      [(f"7400000000000{n}", "CHAOS-1", 1)]))
            tenant.dispatch(order_id)
            order_ids.append(order_id)
        assert emulator.wait_for_webhooks()
        bodies = [json.loads(body)["data"]["attributes"]["reference"] for _, _, body, _ in emulator.webhooks.delivered]
        assert len(bodies) > len(order_ids), "seed 7 should duplicate at least one delivery"
        assert bodies != sorted(bodies, key=order_ids.index), "seed 7 should reorder at least one delivery"
        assert {status for *_, status in emulator.webhooks.delivered} <= {200, 202}
        engine.run_next("shipments")
        assert sorted(Shipment.objects.values_list("order__amazon_order_id", flat=True)) == sorted(order_ids)
    finally:
        emulator.stop()
