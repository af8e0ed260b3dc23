"""`manage.py sage500_emulator`: install and seed for the demo, idempotently; ship an order."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.models import BackOfficeConnection
from connectors.registry import back_office_for
from connectors.sage500.emulator import Sage500Emulator
from tests.connectors.backoffice_contract import amazon_order_id, sales_order

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("sage500_emulator", *args, stdout=out)
    return out.getvalue()


def test_install_seeds_the_demo_once_and_saves_a_working_connection(sage500, sage500_url):
    url = sage500_url.render_as_string(hide_password=False)
    first = run("--url", url, "--company", "DMO", "--connection", "Sage demo")
    run("--url", url, "--company", "DMO", "--connection", "Sage demo")

    endpoint = first.split("endpoint:")[1].splitlines()[0].strip()
    assert endpoint.startswith("postgresql+psycopg://") and "@" not in endpoint  # the login is kept apart
    assert json.loads(first.split("options:")[1].splitlines()[0]) == {
        "schema": "sage500", "company_id": "DMO", "customer_id": "AMAZON", "warehouse_id": "MAIN"}
    backoffice = back_office_for(BackOfficeConnection.objects.get(name="Sage demo"))
    items = [item.item_code for item in backoffice.list_items()]
    assert items == [f"DEMO-{n:03d}" for n in range(1, 13)]
    assert {m.code: m.description for m in backoffice.list_ship_methods()} == {
        "DPDNEXT": "DPD Next Day", "EVRI48": "Evri 48", "PF24": "Parcelforce express24",
        "RM24": "Royal Mail Tracked 24", "RM48": "Royal Mail Tracked 48"}
    assert all(stock.available > 0 for stock in backoffice.get_stock())


def test_ship_subcommand_dispatches_an_order_with_its_tracking_number(sage500, sage500_url):
    url = sage500_url.render_as_string(hide_password=False)
    run("--url", url, "--company", "DMO", "--connection", "Sage demo")
    backoffice = back_office_for(BackOfficeConnection.objects.get(name="Sage demo"))
    order_id = amazon_order_id()
    backoffice.create_sales_order(sales_order(order_id, "RM48", [("1", "DEMO-003", 2), ("2", "DEMO-004", 1)]))

    out = run("ship", order_id, "--tracking", "RM123456785GB", "--url", url, "--company", "DMO")

    assert "Shipped Amazon order" in out
    (dispatch,) = backoffice.list_dispatches("").dispatches
    assert dispatch.amazon_order_id == order_id and dispatch.ship_method == "RM48"
    assert [(p.tracking_number, {x.line_ref: x.quantity for x in p.lines}) for p in dispatch.packages] == [
        ("RM123456785GB", {"1": 2, "2": 1})]
    assert backoffice.get_sales_order_status(order_id).dispatched
    with pytest.raises(CommandError, match="nothing open to ship"):
        run("ship", order_id, "--url", url, "--company", "DMO")
    assert Sage500Emulator(sage500.engine, company_id="DMO").order_count(order_id) == 1
