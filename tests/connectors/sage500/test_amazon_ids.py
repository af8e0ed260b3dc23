"""Amazon order ids in 15-character Sage user fields."""

import pytest

from connectors.base import ConnectorError
from connectors.sage500.amazon_ids import from_user_field, to_user_field


@pytest.mark.parametrize("order_id", ["202-1234567-7654321", "026-0000000-0000001", "999-9999999-9999999",
                                      "000-0000000-0000000"])
def test_standard_ids_round_trip_through_fifteen_characters(order_id):
    stored = to_user_field(order_id, 15)
    assert len(stored) <= 15 and stored != order_id[:15]
    assert from_user_field(stored) == order_id
    assert from_user_field(stored.ljust(15)) == order_id  # CHAR padding


def test_ids_that_fit_are_stored_as_they_are():
    assert to_user_field("S02-1234567", 15) == "S02-1234567"
    assert to_user_field("202-1234567-7654321", 19) == "202-1234567-7654321"
    assert from_user_field("S02-1234567") == "S02-1234567"


def test_a_long_id_of_another_shape_is_refused():
    with pytest.raises(ConnectorError) as caught:
        to_user_field("MCF-ORDER-2026-000001", 15)
    assert caught.value.permanent and "MCF-ORDER-2026-000001" in caught.value.message
