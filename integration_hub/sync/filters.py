import django_filters

from integration_hub.sync.models import WorkItem


class WorkItemFilter(django_filters.FilterSet):
    key = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = WorkItem
        fields = ["state", "kind", "account", "key"]
