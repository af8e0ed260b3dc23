"""The operations and finance teams' everyday journeys, in a real browser."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command

from integration_hub.orders.choices import HubState
from integration_hub.sync.models import WorkItem
from mappings.models import GlAccountMap, SkuLink
from tests.factories import OrderFactory, OrderLineFactory, SellerAccountFactory, ShipLevelMapFactory
from tests.finance.builders import line, order_lines, settlement_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_links_the_unknown_sku_of_a_held_order_and_releases_it(sign_in, ops_user, live_server):
    order = OrderFactory(hub_state=HubState.HELD, hold_reason="SKU 'MUG-RED' has no active SKU link",
                         ship_service_level="STANDARD")
    OrderLineFactory(order=order, sku="MUG-RED")
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method="DPD Next Day")
    page = sign_in(ops_user)
    page.click("nav >> text=Orders")
    page.click(f"text={order.amazon_order_id}")
    assert "has no active SKU link" in page.content()

    page.goto(f"{live_server.url}/admin/mappings/skulink/add/")
    page.select_option("#id_account", str(order.account.pk))
    page.fill("#id_seller_sku", "MUG-RED")
    page.fill("#id_item_code", "100-RED")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")
    assert SkuLink.objects.filter(seller_sku="MUG-RED").exists()

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("button:has-text('Release')")
    page.wait_for_selector(".messages")
    order.refresh_from_db()
    assert order.hub_state == HubState.RECEIVED and order.hold_reason == ""
    assert WorkItem.objects.filter(kind="send_order", key__endswith=order.amazon_order_id).exists()


def test_finance_uploads_a_settlement_adds_the_missing_rule_and_downloads_the_journal(
        sign_in, finance_user, live_server, tmp_path):
    call_command("import_mappings", "gl-accounts", "mappings/defaults/gl-accounts.csv")
    SellerAccountFactory()
    rows = order_lines("202-1111111-1111111", "MUG-RED", "20.00", tax="4.00") + [
        line("other-transaction", "other-transaction", "Mystery Fee", "-2.50")]
    upload = tmp_path / "settlement.txt"
    upload.write_text(settlement_text(rows, settlement_id="55501"))

    page = sign_in(finance_user)
    page.click("nav >> text=Finance")
    page.set_input_files("input[type=file]", str(upload))
    page.click("button:has-text('Import settlement')")
    page.wait_for_selector("text=Waiting for a worker")  # stored and queued: the request does not import
    from integration_hub.sync import engine
    from integration_hub.sync.choices import WorkKind

    for item in WorkItem.objects.filter(kind=WorkKind.IMPORT_SETTLEMENT):  # the finance lane's worker
        engine.run_work_item(item.pk)
    page.wait_for_selector("#upload-progress[data-state=done]")  # the page's poll saw it finish
    assert page.locator("#upload-bar").get_attribute("value") == "100"
    assert "Imported settlement 55501" in page.locator("#upload-message").inner_text()
    page.screenshot(path=str(artifacts() / "settlement-upload.png"), full_page=True)
    page.click("text=Open the settlement, its journal and reconciliation")
    assert "Mystery Fee" in page.content()  # listed as unmapped, the journal is held

    GlAccountMap.objects.create(transaction_type="other-transaction", amount_type="other-transaction",
                                amount_description="Mystery Fee", gl_account="6400", description="Other fees")
    page.reload()
    assert "6400" in page.content()
    with page.expect_download() as download:
        page.click("text=Download XLSX")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert {"Journal", "Reconciliation"} <= set(book.sheetnames)
    header, *lines = [[cell.value for cell in row] for row in book["Journal"].iter_rows()]
    debit, credit, account = header.index("Debit"), header.index("Credit"), header.index("Account")
    assert "6400" in {str(row[account]) for row in lines}
    assert sum(Decimal(str(row[debit] or 0)) for row in lines) == sum(Decimal(str(row[credit] or 0)) for row in lines)


def test_admin_tests_a_back_office_connection_from_the_browser(sign_in, admin_user, live_server, clarus_connection):
    page = sign_in(admin_user)
    page.goto(f"{live_server.url}/admin/connectors/backofficeconnection/")
    page.check(f"input[name=_selected_action][value='{clarus_connection.pk}']")
    page.select_option("select[name=action]", "test_connection")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert f"{clarus_connection}: OK" in page.text_content(".messagelist")


def test_ops_fixes_a_held_order_from_the_exceptions_page_with_the_suggested_item(sign_in, ops_user, live_server):
    from integration_hub.sync import engine
    from integration_hub.sync.choices import WorkKind
    from tests.factories import StockLevelFactory

    account = SellerAccountFactory(name="UK seller")
    ShipLevelMapFactory(ship_service_level="STANDARD", warehouse_ship_method="DPD Next Day")
    StockLevelFactory(connection=account.back_office, item_code="MUG-RED-L", available=12)
    order = OrderFactory(account=account, ship_service_level="STANDARD")
    OrderLineFactory(order=order, sku="mug-red-l")
    order.hold("SKU 'mug-red-l' has no active SKU link", for_mapping=True)
    page = sign_in(ops_user)
    page.click("nav >> text=Exceptions")
    page.wait_for_selector("text=SellerSKUs with no link (1)")
    page.screenshot(path=str(artifacts() / "exceptions.png"), full_page=True)
    page.click("button:has-text('Link to MUG-RED-L')")
    page.wait_for_selector("text=Linked mug-red-l to MUG-RED-L")
    assert SkuLink.objects.get(account=account, seller_sku="mug-red-l").item_code == "MUG-RED-L"
    for item in WorkItem.objects.filter(kind=WorkKind.RECHECK_HELD):  # what the orders lane's worker runs
        engine.run_work_item(item.pk)
    order.refresh_from_db()
    assert order.hub_state == HubState.RECEIVED
    page.reload()
    assert "No order is held for a missing SKU link" in page.content()


def artifacts():
    """Screenshots of the main pages, kept with the test run (var/ is not committed)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_ops_sees_an_at_risk_order_count_down_and_the_page_keep_itself_current(sign_in, ops_user, live_server):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import ShipmentFactory

    account = SellerAccountFactory(name="UK seller")
    soon = ShipmentFactory(order=OrderFactory(account=account, amazon_order_id="202-0000000-0000077",
                                              latest_ship_date=timezone.now() + dt.timedelta(hours=2, minutes=30)))
    page = sign_in(ops_user)
    page.goto(f"{live_server.url}/?refresh=2")
    countdown = page.locator("#unconfirmed time.countdown").first
    assert countdown.get_attribute("class") == "countdown soon"
    first = countdown.inner_text()
    assert first.startswith("2h 2") and first.endswith("to ship-by"), first
    assert page.locator("#at-risk-count").inner_text() == "1"
    page.screenshot(path=str(artifacts() / "home-at-risk.png"), full_page=True)
    # A second package falls due while the page is open: the page shows it without a reload.
    ShipmentFactory(order=OrderFactory(account=account, amazon_order_id="202-0000000-0000078",
                                       latest_ship_date=timezone.now() - dt.timedelta(minutes=5)))
    page.wait_for_function("document.querySelector('#at-risk-count').textContent.trim() === '2'", timeout=10_000)
    overdue = page.locator("#unconfirmed time.countdown.overdue")
    assert overdue.count() == 1 and overdue.first.inner_text().startswith("overdue by 5m")
    assert soon.order.amazon_order_id in page.locator("#unconfirmed").inner_text()


def test_ops_sorts_the_stock_lag_table_to_find_the_tier_furthest_behind(sign_in, ops_user, live_server):
    """Issue 11: stock sync lag per tier on the home page, and tables sorted by a click on a header."""
    from django.utils import timezone

    from integration_hub.sync.choices import WorkKind, WorkState
    from tests.factories import SkuLinkFactory

    now = timezone.now()
    for name, tier, minutes in (("Acme UK", "fast", 3), ("Acme DE", "fast", 45), ("Acme FR", "medium", 20)):
        account = SellerAccountFactory(name=name)
        SkuLinkFactory(account=account, velocity_tier=tier)
        WorkItem.objects.create(kind=WorkKind.PUSH_STOCK, key=f"{account.pk}:{tier}", account=account,
                                state=WorkState.DONE, done_at=now - timezone.timedelta(minutes=minutes))
    page = sign_in(ops_user)
    table = page.locator("#stock-lag + p + table")
    assert table.locator("tr.late").count() == 1  # Acme DE's fast movers missed a run (every 5 min)
    header = table.locator("th", has_text="Lag")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    accounts = table.locator("tbody tr td:first-child").all_inner_texts()
    assert accounts == ["Acme UK", "Acme FR", "Acme DE"]
    header.click()
    assert table.locator("tbody tr td:first-child").all_inner_texts() == ["Acme DE", "Acme FR", "Acme UK"]
