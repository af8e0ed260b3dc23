import django_filters
from django.db.models import Q

from integration_hub.shipments.models import Shipment


class ShipmentFilter(django_filters.FilterSet):
    """Filters of the shipments page and the shipments API."""

    account = django_filters.NumberFilter(field_name="order__account")
    q = django_filters.CharFilter(method="filter_search", label="Order id or tracking")

    class Meta:
        model = Shipment
        fields = ["confirmation_state", "account", "carrier", "q"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(order__amazon_order_id__icontains=value) | Q(tracking_number__icontains=value))
