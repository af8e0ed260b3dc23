import django_filters

from integration_hub.exchanges.models import Exchange


class ExchangeFilter(django_filters.FilterSet):
    """Every filter is an equality or a range on an indexed column, so a filtered page stays one index
    scan at millions of rows (a substring search would read them all)."""

    correlation_id = django_filters.CharFilter(label="Order id / correlation")
    http_status = django_filters.NumberFilter(label="Status code")
    since = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte", label="From (ISO time)")
    until = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt", label="Until (ISO time)")

    class Meta:
        model = Exchange
        fields = ["system", "operation", "outcome", "direction", "account", "connection", "correlation_id",
                  "http_status"]
