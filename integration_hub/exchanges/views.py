from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseBadRequest
from django.views.generic import DetailView, ListView

from integration_hub.core import keyset
from integration_hub.exchanges.filters import ExchangeFilter
from integration_hub.exchanges.models import Exchange


class ExchangeListView(PermissionRequiredMixin, ListView):
    """Newest first, 100 a page, "older / newer" from a cursor: no page numbers, no row count, the same
    cost at the first page and a million rows deep."""

    permission_required = "exchanges.view_exchange"
    template_name = "exchanges/exchange_list.html"
    page_size = 100

    def get_queryset(self):
        queryset = Exchange.objects.select_related("account", "connection").defer(
            "request_summary", "response_summary")
        self.filterset = ExchangeFilter(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get(self, request, *args, **kwargs):
        try:
            self.page = keyset.page(self.get_queryset(), before=request.GET.get("before"),
                                    after=request.GET.get("after"), size=self.page_size)
        except ValueError as error:
            return HttpResponseBadRequest(str(error))
        self.object_list = self.page.rows
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        for name in ("before", "after"):
            query.pop(name, None)
        return super().get_context_data(filter=self.filterset, keyset_page=self.page, query=query.urlencode(),
                                        **kwargs)


class ExchangeDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "exchanges.view_exchange"
    model = Exchange
    template_name = "exchanges/exchange_detail.html"
