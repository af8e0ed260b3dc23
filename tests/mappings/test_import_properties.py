"""Any mapping file ends imported whole or refused whole with a message naming the line, never an
unhandled exception and never half a table (hypothesis, through `import_mappings`)."""

import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.models import CarrierMap, GlAccountMap

pytestmark = pytest.mark.django_db
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CELL = st.one_of(st.text(max_size=15), st.sampled_from(["", "1", "0", "Royal Mail", "DPD", "Tracked 24", "=1+1",
                                                        "yes", "4000", "*", "Order"]))
LAYOUTS = {
    "carriers": (CarrierMap, ["warehouse_ship_method", "carrier_code", "carrier_name", "shipping_method", "active"]),
    "gl-accounts": (GlAccountMap, ["transaction_type", "amount_type", "amount_description", "gl_account",
                                   "description"]),
}


@st.composite
def mapping_files(draw):
    kind = draw(st.sampled_from(sorted(LAYOUTS)))
    header = list(LAYOUTS[kind][1])
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(CELL)  # a damaged header
    rows = draw(st.lists(st.lists(CELL, min_size=len(header) - 1, max_size=len(header) + 1), max_size=5))
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    data = out.getvalue().encode("utf-8")
    if draw(st.booleans()):
        data = draw(st.binary(max_size=40)) + data  # not always UTF-8
    return kind, data


@FAST
@given(mapping_files())
def test_any_mapping_file_is_imported_whole_or_refused_whole(tmp_path, file):
    kind, data = file
    model = LAYOUTS[kind][0]
    before = sorted(model.objects.values_list("pk", flat=True))
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    try:
        call_command("import_mappings", kind, str(path), stdout=StringIO(), stderr=StringIO())
    except CommandError as exc:
        assert "upload.csv" in str(exc)
        assert sorted(model.objects.values_list("pk", flat=True)) == before, "a refused file changed the table"
    finally:
        model.objects.exclude(pk__in=before).delete()
