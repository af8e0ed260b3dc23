"""`manage.py sync orders|shipments|stock`: one pass in the foreground, against every back office."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.shipments.choices import ConfirmationState
from integration_hub.shipments.models import Shipment
from tests.factories import CarrierMapFactory, SellerAccountFactory, ShipLevelMapFactory, SkuLinkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["clarus", "dynamics_sl", "sage500"])
def site(request):
    """(connection, warehouse handle) for each back office, as the shared contract drives them."""
    if request.param == "clarus":
        return request.getfixturevalue("clarus_connection"), request.getfixturevalue("clarus_tenant")
    if request.param == "dynamics_sl":
        return request.getfixturevalue("sl_connection"), request.getfixturevalue("warehouse")
    from tests.connectors.sage500.test_contract import ContractWarehouse

    return (request.getfixturevalue("sage500_connection"),
            ContractWarehouse(request.getfixturevalue("sage500"), request.getfixturevalue("sage500_backoffice")))


def sync(*args):
    out = StringIO()
    try:
        call_command("sync", *args, stdout=out, stderr=StringIO())
        status = 0
    except SystemExit as exc:
        status = exc.code
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]), status


def account_at(amazon_emulator, connection):
    return SellerAccountFactory(
        endpoint=amazon_emulator.url, token_url=amazon_emulator.url + "/auth/o2/token",
        seller_id=amazon_emulator.seller_id, marketplace_ids=["A1F83G8C2ARO7P"],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, back_office=connection)


def test_sync_runs_each_flow_in_the_foreground_and_counts_it(site, amazon_emulator):
    connection, warehouse = site
    account = account_at(amazon_emulator, connection)
    SkuLinkFactory(account=account, seller_sku="DEMO-SKU-001", item_code="SYNC-1", velocity_tier="fast",
                   handling_days=2)
    warehouse.add_item("SYNC-1", on_hand=30)
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method=warehouse.ship_method)
    CarrierMapFactory(warehouse_ship_method=warehouse.ship_method, carrier_code="Royal Mail")
    good = amazon_emulator.make_order(items=[{"SellerSKU": "DEMO-SKU-001", "QuantityOrdered": 1}])
    unknown = amazon_emulator.make_order(items=[{"SellerSKU": "NO-SUCH-SKU", "QuantityOrdered": 1}])

    counts, status = sync("orders", "--account", account.name, "--once")
    assert status == 0, counts
    assert counts["flow"] == "orders", list(Order.objects.values_list("hold_reason", flat=True))
    assert counts["held"] == 1, list(Order.objects.values_list("hold_reason", flat=True))
    assert {k: counts[k] for k in ("fetched", "created", "held", "duplicates", "cancelled", "errors")} == {
        "fetched": 2, "created": 2, "held": 1, "duplicates": 0, "cancelled": 0, "errors": 0}
    assert Order.objects.get(amazon_order_id=good).hub_state == HubState.SENT
    assert warehouse.order_count(good) == 1 and warehouse.order_count(unknown) == 0

    line = Order.objects.get(amazon_order_id=good).lines.get()
    warehouse.dispatch(good, [{"tracking_number": "RM400000001GB", "lines": {line.order_item_id: 1}}],
                       ship_method=warehouse.ship_method)
    counts, status = sync("shipments")
    assert status == 0, counts
    assert (counts["collected"], counts["confirmed"], counts["failed"], counts["unmapped"]) == (1, 1, 0, 0)
    assert Shipment.objects.get().confirmation_state == ConfirmationState.CONFIRMED
    assert [c["trackingNumber"] for c in amazon_emulator.confirmations(good)] == ["RM400000001GB"]

    amazon_emulator.add_listing("DEMO-SKU-001", quantity=0, handling_days=2)
    counts, status = sync("stock", "--account", str(account.pk))
    assert status == 0, counts
    assert (counts["skus_checked"], counts["pushed"], counts["rejected"]) == (1, 1, 0)
    assert amazon_emulator.listing("DEMO-SKU-001")["quantity"] == 29
    counts, _ = sync("stock")
    assert (counts["pushed"], counts["unchanged"]) == (0, 1)


def test_sync_exits_non_zero_when_something_failed(amazon_emulator, sl_connection):
    account_at(amazon_emulator, sl_connection)
    amazon_emulator.set_faults(error_rate=1.0)
    counts, status = sync("orders", "--once")
    assert status == 1 and counts["errors"] == 1


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    from integration_hub.sync.management.commands.sync import Progress

    class Terminal(StringIO):
        def isatty(self):
            return True

    tty, log = Terminal(), StringIO()
    for out in (tty, log):
        bar = Progress(out, "dispatches", total=4)
        bar.step("Clarus UK")
        bar.end()
    assert tty.getvalue().startswith("\rdispatches [#######...") and "1/4" in tty.getvalue()
    assert log.getvalue() == "dispatches: 1/4 Clarus UK\n"
