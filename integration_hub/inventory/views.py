from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import ListView

from integration_hub.inventory import services
from integration_hub.inventory.filters import StockFilter


class StockListView(PermissionRequiredMixin, ListView):
    permission_required = "inventory.view_stocklevel"
    template_name = "inventory/stock_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = StockFilter(self.request.GET, queryset=services.stock_rows())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filter=self.filterset, **kwargs)
        for row in context["object_list"]:
            row.buffer = services.buffer_for(row)
        return context
