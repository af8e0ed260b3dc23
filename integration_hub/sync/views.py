from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView

from integration_hub.sync import engine
from integration_hub.sync.filters import WorkItemFilter
from integration_hub.sync.models import WorkItem


class WorkItemListView(PermissionRequiredMixin, ListView):
    permission_required = "sync.view_workitem"
    template_name = "sync/workitem_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = WorkItemFilter(self.request.GET, queryset=WorkItem.objects.select_related("account"))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class WorkItemRetryView(PermissionRequiredMixin, View):
    """One-click retry of a dead letter (admins)."""

    permission_required = "sync.change_workitem"
    http_method_names = ["post"]

    def post(self, request, pk):
        item = get_object_or_404(WorkItem, pk=pk)
        if engine.retry(item):
            messages.success(request, f"Queued {item} for another try.")
        else:
            messages.warning(request, f"{item} is {item.get_state_display().lower()}, not a dead letter.")
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "sync:workitems"  # never send a user off-site from a form field
        return redirect(back)
