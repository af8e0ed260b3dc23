from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import ListView

from integration_hub.inventory import services
from integration_hub.inventory.filters import StockFilter
from integration_hub.inventory.models import StockCheck
from mappings.models import BufferRules


class StockListView(PermissionRequiredMixin, ListView):
    permission_required = "inventory.view_stocklevel"
    template_name = "inventory/stock_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = StockFilter(self.request.GET, queryset=services.stock_rows())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filter=self.filterset, **kwargs)
        rows = context["object_list"] = list(context["object_list"])
        buffers = BufferRules({row.account_id for row in rows})
        for row in rows:
            row.buffer = buffers.for_link(row)
        context["checks"] = StockCheck.objects.filter(
            pk__in=StockCheck.objects.order_by("account_id", "-requested_at").distinct("account_id").values("pk")
        ).select_related("account").order_by("account__name")
        return context
