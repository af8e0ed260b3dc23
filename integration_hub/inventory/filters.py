import django_filters
from django.db.models import Q

from mappings.choices import VelocityTier
from mappings.models import SkuLink


class StockFilter(django_filters.FilterSet):
    """Filters of the stock page and the stock API (rows from inventory.services.stock_rows)."""

    velocity_tier = django_filters.ChoiceFilter(choices=VelocityTier.choices, label="Tier")
    errors = django_filters.BooleanFilter(method="filter_errors", label="Last push failed")
    q = django_filters.CharFilter(method="filter_search", label="SKU or item code")

    class Meta:
        model = SkuLink
        fields = ["account", "velocity_tier", "errors", "q"]

    def filter_errors(self, queryset, name, value):
        failed = Q(push_error__isnull=False) & ~Q(push_error="")
        return queryset.filter(failed) if value else queryset.exclude(failed)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(seller_sku__icontains=value) | Q(item_code__icontains=value))
