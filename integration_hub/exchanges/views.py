from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
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

    def get_context_data(self, **kwargs):
        from integration_hub.sync.choices import RETRY_PERMISSION
        from integration_hub.sync.models import WorkItem

        item = WorkItem.objects.filter(pk=self.object.work_item_id).first() if self.object.work_item_id else None
        may_replay = item is not None and self.request.user.has_perm(RETRY_PERMISSION[item.kind])
        return super().get_context_data(work_item=item, may_replay=may_replay, **kwargs)


class ExchangeReplayView(PermissionRequiredMixin, View):
    """Replay a failed exchange's unit of work (the work item whose run made the call) once its cause is
    fixed; the same permission as retrying that kind of work (ops: orders and stock, admins: all)."""

    permission_required = "exchanges.view_exchange"
    http_method_names = ["post"]

    def post(self, request, pk):
        from integration_hub.sync import engine
        from integration_hub.sync.choices import RETRY_PERMISSION
        from integration_hub.sync.models import WorkItem

        exchange = get_object_or_404(Exchange, pk=pk)
        item = WorkItem.objects.filter(pk=exchange.work_item_id).first() if exchange.work_item_id else None
        if item is None:
            raise Http404("this exchange was not made by a work item (or the item was purged)")
        if not request.user.has_perm(RETRY_PERMISSION[item.kind]):
            raise PermissionDenied
        outcome = engine.replay(item)
        audit.record(request, Action.WORK_RETRY, item, detail=f"replay from exchange {exchange.pk}: {outcome}")
        (messages.success if not outcome.startswith("left") else messages.warning)(request, f"{item}: {outcome}")
        return redirect("exchanges:detail", pk=exchange.pk)
