import django_filters
from django.db.models import Q

from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order


class OrderFilter(django_filters.FilterSet):
    """Filters of the orders page and the orders API."""

    held = django_filters.BooleanFilter(method="filter_held", label="Held")
    q = django_filters.CharFilter(method="filter_search", label="Order id or SKU")

    class Meta:
        model = Order
        fields = ["held", "status", "hub_state", "account", "q"]

    def filter_held(self, queryset, name, value):
        return queryset.filter(hub_state=HubState.HELD) if value else queryset.exclude(hub_state=HubState.HELD)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(amazon_order_id__icontains=value) | Q(lines__sku__icontains=value)).distinct()
