import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from connectors.models import SellerAccount
from mappings.models import CarrierMap, SkuLink

pytestmark = pytest.mark.django_db

GOOD_CARRIERS = (
    "warehouse_ship_method,carrier_code,carrier_name,shipping_method,active\n"
    "DPD Next Day,DPD,,Next Day,1\n"
    "Royal Mail Tracked 24,Royal Mail,,Tracked 24,1\n"
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_export_round_trips(tmp_path, capsys):
    call_command("import_mappings", "carriers", str(write(tmp_path, "carriers.csv", GOOD_CARRIERS)))
    assert CarrierMap.objects.get(warehouse_ship_method="DPD Next Day").carrier_code == "DPD"
    capsys.readouterr()
    call_command("export_mappings", "carriers")
    exported = capsys.readouterr().out
    assert "Royal Mail Tracked 24,Royal Mail,,Tracked 24,1" in exported
    # The export imports again as "unchanged", not as duplicates.
    call_command("import_mappings", "carriers", str(write(tmp_path, "again.csv", exported)))
    assert CarrierMap.objects.count() == 2


def test_one_bad_row_imports_nothing_and_names_the_line(tmp_path, capsys):
    bad = GOOD_CARRIERS + "Evri 48,Evri,,,1\nYodel 48,Other,,,1\n"
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_mappings", "carriers", str(write(tmp_path, "bad.csv", bad)))
    errors = capsys.readouterr().err
    assert "line 4: carrier_code: Evri is not a carrier code Amazon accepts" in errors
    assert "line 5:" in errors and "carrier name" in errors.lower()
    assert CarrierMap.objects.count() == 0


def test_a_key_repeated_in_one_file_is_refused(tmp_path, capsys):
    SellerAccount.objects.create(name="UK", seller_id="A1", marketplace_ids=["A1F83G8C2ARO7P"])
    text = ("account,seller_sku,item_code,pack_multiplier,velocity_tier,handling_days,active\n"
            "UK,MUG-RED,100-RED,1,fast,2,1\n"
            "UK,MUG-RED,100-BLUE,1,fast,2,1\n")
    with pytest.raises(CommandError):
        call_command("import_mappings", "sku-links", str(write(tmp_path, "links.csv", text)))
    assert "line 3: duplicate of row 1" in capsys.readouterr().err
    assert SkuLink.objects.count() == 0


def test_ragged_csv_is_refused_with_its_line(tmp_path):
    with pytest.raises(CommandError, match="line 4 has 3 columns, the header has 5"):
        call_command("import_mappings", "carriers", str(write(tmp_path, "bad.csv", GOOD_CARRIERS + "A,B,C\n")))


def test_unknown_account_in_a_sku_link_file_is_reported(tmp_path, capsys):
    text = "account,seller_sku,item_code\nNOPE,MUG-RED,100-RED\n"
    with pytest.raises(CommandError):
        call_command("import_mappings", "sku-links", str(write(tmp_path, "links.csv", text)))
    assert "no seller account named 'NOPE'" in capsys.readouterr().err


def test_xlsx_export_and_import(tmp_path):
    call_command("import_mappings", "carriers", str(write(tmp_path, "carriers.csv", GOOD_CARRIERS)))
    target = tmp_path / "carriers.xlsx"
    call_command("export_mappings", "carriers", "--format", "xlsx", "--output", str(target))
    sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes())).active
    assert [c.value for c in sheet[1]][:2] == ["warehouse_ship_method", "carrier_code"]
    CarrierMap.objects.all().delete()
    call_command("import_mappings", "carriers", str(target))
    assert CarrierMap.objects.count() == 2


def test_admin_import_preview_shows_row_errors_and_offers_no_confirm(client_as, ops_user):
    client = client_as(ops_user)
    upload = io.BytesIO((GOOD_CARRIERS + "Evri 48,Evri,,,1\n").encode())
    upload.name = "carriers.csv"
    response = client.post("/admin/mappings/carriermap/import/",
                           {"import_file": upload, "format": "0", "resource": "0"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Evri is not a carrier code Amazon accepts" in body
    assert "process_import" not in body  # the confirm step is not offered
    assert CarrierMap.objects.count() == 0


def test_a_value_a_spreadsheet_would_run_as_a_formula_is_exported_quoted_and_imports_back_as_it_was(
        tmp_path, capsys):
    SellerAccount.objects.create(name="UK", seller_id="A1", marketplace_ids=["A1F83G8C2ARO7P"])
    text = ("account,seller_sku,item_code,pack_multiplier,velocity_tier,handling_days,active\n"
            "UK,-MUG-RED,=HYPERLINK(\"http://x\"),1,fast,2,1\n"
            "UK,MUG-BLUE,100-BLUE,1,fast,2,1\n")
    call_command("import_mappings", "sku-links", str(write(tmp_path, "links.csv", text)))
    capsys.readouterr()
    call_command("export_mappings", "sku-links")
    exported = capsys.readouterr().out
    assert "'-MUG-RED" in exported and "'=HYPERLINK" in exported and ",MUG-BLUE,100-BLUE," in exported
    SkuLink.objects.all().delete()
    call_command("import_mappings", "sku-links", str(write(tmp_path, "again.csv", exported)))
    assert sorted(SkuLink.objects.values_list("seller_sku", "item_code")) == [
        ("-MUG-RED", '=HYPERLINK("http://x")'), ("MUG-BLUE", "100-BLUE")]
