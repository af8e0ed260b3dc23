"""field__any: the same rows as field__in, with the whole list sent as one array parameter."""

import pytest

from integration_hub.orders.models import Order, OrderLine
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_for_ids_strings_relations_and_nothing():
    orders = [OrderFactory() for _ in range(4)]
    for order in orders:
        OrderLineFactory(order=order)
    pks = [orders[0].pk, orders[2].pk, 10**9]
    ids = {orders[1].amazon_order_id, orders[3].amazon_order_id, "not-an-order"}
    cases = [(Order, "pk", pks), (Order, "amazon_order_id", ids), (OrderLine, "order", pks),
             (OrderLine, "order__amazon_order_id", ids), (Order, "pk", [])]
    for model, field, values in cases:
        wanted = set(model.objects.filter(**{f"{field}__in": values}).values_list("pk", flat=True))
        got = set(model.objects.filter(**{f"{field}__any": values}).values_list("pk", flat=True))
        assert got == wanted, (model, field)
    assert len(set(Order.objects.filter(pk__any=pks).values_list("pk", flat=True))) == 2
