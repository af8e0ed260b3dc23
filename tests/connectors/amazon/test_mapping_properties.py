"""Any order or address Amazon might send ends as a record or as AmazonDataError naming the order:
never an unhandled exception (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.amazon import mapping
from tests.connectors.amazon.test_client_mapping import model_example
from tests.strategies import JSON, mutated

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def example_order():
    return model_example("orders_2026-01-01.json", "/orders/2026-01-01/orders/{orderId}")["order"]


def test_any_json_as_an_order_is_mapped_or_refused_clearly():
    sample = example_order()  # read outside hypothesis: the reference file is read once

    @FAST
    @given(st.one_of(JSON, mutated(sample)))
    def check(data):
        try:
            order = mapping.order_from_2026(data)
        except mapping.AmazonDataError as exc:
            message = str(exc)
            assert message
            if isinstance(data, dict) and data.get("orderId") and isinstance(data["orderId"], str):
                assert data["orderId"] in message or "order" in message
        else:
            assert order.amazon_order_id == data["orderId"]

    check()


@FAST
@given(JSON)
def test_any_json_as_an_address_is_split_or_refused_clearly(data):
    try:
        result = mapping.address(data)
    except mapping.AmazonDataError as exc:
        assert "address" in str(exc)
    else:
        assert result is None or isinstance(result.line1, str)
