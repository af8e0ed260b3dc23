from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import DetailView, ListView

from integration_hub.exchanges.filters import ExchangeFilter
from integration_hub.exchanges.models import Exchange


class ExchangeListView(PermissionRequiredMixin, ListView):
    permission_required = "exchanges.view_exchange"
    template_name = "exchanges/exchange_list.html"
    paginate_by = 100

    def get_queryset(self):
        queryset = Exchange.objects.select_related("account", "connection").defer(
            "request_summary", "response_summary")
        self.filterset = ExchangeFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class ExchangeDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "exchanges.view_exchange"
    model = Exchange
    template_name = "exchanges/exchange_detail.html"
