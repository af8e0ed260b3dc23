from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView, TemplateView

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.sync import engine, jobs_page
from integration_hub.sync.choices import RETRY_PERMISSION
from integration_hub.sync.filters import WorkItemFilter
from integration_hub.sync.models import WorkItem


class JobsView(PermissionRequiredMixin, TemplateView):
    """Lanes, their queues and workers, the work running now, and long jobs with live progress bars."""

    permission_required = "sync.view_workitem"
    template_name = "sync/jobs.html"

    def get_context_data(self, **kwargs):
        from integration_hub.finance.models import SettlementUpload
        from integration_hub.finance.uploads import progress_of

        uploads = [(upload, progress_of(upload)) for upload in SettlementUpload.objects.defer("content")
                   .select_related("account", "settlement")
                   .filter(state__in=[SettlementUpload.State.QUEUED, SettlementUpload.State.RUNNING])[:20]]
        lanes = jobs_page.lanes()
        running = [(lane.name, item) for lane in lanes for item in lane.running]
        return super().get_context_data(lanes=lanes, running=running, uploads=uploads, **kwargs)


class WorkItemListView(PermissionRequiredMixin, ListView):
    permission_required = "sync.view_workitem"
    template_name = "sync/workitem_list.html"
    paginate_by = 100

    def get_queryset(self):
        self.filterset = WorkItemFilter(self.request.GET, queryset=WorkItem.objects.select_related("account"))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        retryable = {kind for kind, perm in RETRY_PERMISSION.items() if self.request.user.has_perm(perm)}
        return super().get_context_data(filter=self.filterset, retryable=retryable, **kwargs)


class WorkItemRetryView(View):
    """Retry dead letters, one (`<pk>/retry/`) or the ones ticked on the list (`retry/`, field `items`).

    Each kind has its own permission (RETRY_PERMISSION): ops retry order and stock work, admins all.
    """

    http_method_names = ["post"]

    def post(self, request, pk=None):
        if not any(request.user.has_perm(perm) for perm in set(RETRY_PERMISSION.values())):
            raise PermissionDenied
        pks = [pk] if pk is not None else [int(v) for v in request.POST.getlist("items") if v.isdigit()]
        items = list(WorkItem.objects.filter(pk__in=pks))
        if pk is not None and not items:
            raise Http404
        refused = [item for item in items if not request.user.has_perm(RETRY_PERMISSION[item.kind])]
        if pk is not None and refused:
            raise PermissionDenied
        retried = [item for item in items if item not in refused and engine.retry(item)]
        audit.record_many(request, Action.WORK_RETRY, retried,
                          detail="retried" if pk is not None else f"bulk retry of {len(retried)} items")
        if retried:
            names = ", ".join(str(item) for item in retried[:5]) + ("…" if len(retried) > 5 else "")
            messages.success(request, f"Queued {len(retried)} item(s) for another try: {names}")
        if refused:
            messages.error(request, f"Not retried, your role may not retry: {', '.join(str(i) for i in refused[:5])}")
        skipped = len(items) - len(retried) - len(refused)
        if skipped:
            messages.warning(request, f"{skipped} item(s) were not dead letters and were left as they are.")
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "sync:workitems"  # never send a user off-site from a form field
        return redirect(back)
