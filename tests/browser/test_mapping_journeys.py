import pytest

from integration_hub.sync.models import WorkItem
from mappings.models import CarrierMap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_adds_a_carrier_map_and_an_unknown_code_is_refused(sign_in, ops_user, live_server):
    page = sign_in(ops_user)
    page.click("text=Mappings & settings")
    page.click("a[href='/admin/mappings/carriermap/add/']")
    page.fill("#id_warehouse_ship_method", "DPD Next Day")
    page.select_option("#id_carrier_code", "DPD")
    page.fill("#id_shipping_method", "Next Day")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")
    assert CarrierMap.objects.get().carrier_code == "DPD"

    page.goto(f"{live_server.url}/admin/mappings/carriermap/add/")
    page.fill("#id_warehouse_ship_method", "Evri 48")
    page.select_option("#id_carrier_code", "Other")
    page.click("input[name=_save]")
    assert "Other needs the carrier's name" in page.text_content(".errorlist")
    assert CarrierMap.objects.count() == 1


def test_ops_import_with_a_bad_row_shows_the_error_and_imports_nothing(sign_in, ops_user, live_server, tmp_path):
    upload = tmp_path / "carriers.csv"
    upload.write_text("warehouse_ship_method,carrier_code,carrier_name,shipping_method,active\n"
                      "DPD Next Day,DPD,,Next Day,1\nEvri 48,Evri,,,1\n")
    page = sign_in(ops_user)
    page.goto(f"{live_server.url}/admin/mappings/carriermap/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.select_option("select[name=format]", label="csv")
    page.click("input[type=submit], button[type=submit] >> nth=-1")
    page.wait_for_selector("text=Evri is not a carrier code Amazon accepts")
    assert page.locator("input[name=process_import], button[name=confirm], form[action*=process_import]").count() == 0
    assert CarrierMap.objects.count() == 0


def test_admin_retries_a_dead_letter_in_one_click(sign_in, admin_user, live_server):
    item = WorkItem.objects.create(kind="confirm_shipment", key="999", state="dead",
                                   last_error="400 InvalidInput: carrierCode")
    page = sign_in(admin_user)
    page.click("#dead-count + a")
    page.wait_for_selector("text=400 InvalidInput: carrierCode")
    page.click("button:has-text('Retry')")
    page.wait_for_selector("text=Queued")
    item.refresh_from_db()
    assert item.state in ("pending", "running", "retrying", "done")
    assert item.attempts <= 1
