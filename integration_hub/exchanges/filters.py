import django_filters

from integration_hub.exchanges.models import Exchange


class ExchangeFilter(django_filters.FilterSet):
    correlation_id = django_filters.CharFilter(lookup_expr="icontains")
    operation = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Exchange
        fields = ["system", "operation", "outcome", "direction", "account", "connection", "correlation_id"]
