import django_filters

from integration_hub.finance.models import Journal, ReconciliationLine, Settlement


class SettlementFilter(django_filters.FilterSet):
    settlement_id = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Settlement
        fields = ["account", "currency", "settlement_id"]


class JournalFilter(django_filters.FilterSet):
    class Meta:
        model = Journal
        fields = ["settlement", "state", "period"]


class ReconciliationLineFilter(django_filters.FilterSet):
    class Meta:
        model = ReconciliationLine
        fields = ["settlement", "category", "order_id", "sku"]
