"""Any settlement file ends as an imported settlement or as SettlementFileError naming the line and
field, never an unhandled exception and never a half-written settlement (hypothesis)."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration_hub.finance.importer import import_settlement
from integration_hub.finance.models import JournalLine, ReconciliationLine, Settlement
from integration_hub.finance.parser import SettlementFileError
from tests.finance.builders import COLUMNS, order_lines, settlement_text

pytestmark = pytest.mark.django_db
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CELL = st.one_of(st.text(max_size=12), st.sampled_from(["", "10.00", "-1,50", "1O.00", "2026-11-05", "Order",
                                                        "ItemPrice", "Principal", "9" * 30, "NaN", "1e9"]))


@st.composite
def damaged_reports(draw):
    """A valid report with some cells replaced, lines dropped or added, or bytes cut off."""
    text = settlement_text(order_lines("202-1111111-1111111", "MUG", "10.00")
                           + order_lines("202-2222222-2222222", "CUP", "5.00"))
    lines = [line.split("\t") for line in text.splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        if lines[row] and draw(st.booleans()):
            lines[row][draw(st.integers(0, len(lines[row]) - 1))] = draw(CELL)
        elif draw(st.booleans()):
            lines.insert(row, draw(st.lists(CELL, max_size=len(COLUMNS) + 2)))
        elif len(lines) > 1:
            del lines[row]
    data = "\n".join("\t".join(cells) for cells in lines).encode("cp1252", errors="replace")
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return data


def counts():
    return Settlement.objects.count(), JournalLine.objects.count(), ReconciliationLine.objects.count()


@FAST
@given(st.one_of(damaged_reports(), st.binary(max_size=300)))
def test_any_settlement_file_is_imported_whole_or_refused_whole(account, data):
    before = counts()
    try:
        result = import_settlement(account, io.BytesIO(data))
    except SettlementFileError as exc:
        assert str(exc)
        assert counts() == before, "a refused file left rows behind"
    else:
        settlement = result.settlement
        assert settlement.pk and settlement.journals.exists()
        settlement.delete()  # the next example starts from the same state


@pytest.mark.parametrize("cut", [2, 10, 40, -8])
def test_a_gzipped_report_cut_short_is_refused_whole(account, cut):
    import gzip

    text = settlement_text(order_lines("202-1111111-1111111", "MUG", "10.00"))
    data = gzip.compress(text.encode("cp1252"))[:cut]
    before = counts()
    with pytest.raises(SettlementFileError, match="gzipped file is damaged or cut short"):
        import_settlement(account, io.BytesIO(data))
    assert counts() == before
