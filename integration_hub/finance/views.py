from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import DetailView, ListView

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.finance import exports, uploads
from integration_hub.finance.choices import JournalState, ReconCategory
from integration_hub.finance.filters import SettlementFilter
from integration_hub.finance.forms import SettlementUploadForm
from integration_hub.finance.jobs import queue_posting
from integration_hub.finance.models import Settlement, SettlementUpload
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem

RECONCILIATION_ROWS = 500  # the page shows this many lines per category; the XLSX has them all


class SettlementListView(PermissionRequiredMixin, ListView):
    permission_required = "finance.view_settlement"
    template_name = "finance/settlement_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = SettlementFilter(self.request.GET, queryset=Settlement.objects.select_related("account")
                                          .prefetch_related("journals"))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, form=SettlementUploadForm(), **kwargs)


class SettlementUploadView(PermissionRequiredMixin, View):
    """Import a settlement report uploaded by finance."""

    permission_required = "finance.add_settlement"
    http_method_names = ["post"]

    def post(self, request):
        form = SettlementUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect("finance:settlements")
        upload = uploads.accept(form.cleaned_data["account"], form.cleaned_data["file"], request.user.get_username())
        audit.record(request, Action.SETTLEMENT_UPLOAD, upload, detail=f"{upload.source_name}: queued for import")
        return redirect("finance:upload-detail", pk=upload.pk)


class UploadDetailView(PermissionRequiredMixin, DetailView):
    """An uploaded settlement report's import: a progress bar while a worker imports it, then the outcome."""

    permission_required = "finance.view_settlement"
    template_name = "finance/upload_detail.html"
    queryset = SettlementUpload.objects.select_related("account", "settlement").defer("content")

    def get_context_data(self, **kwargs):
        return super().get_context_data(progress=uploads.progress_of(self.object), **kwargs)


class UploadProgressView(PermissionRequiredMixin, View):
    """The progress of an upload's import as JSON, polled by its page."""

    permission_required = "finance.view_settlement"

    def get(self, request, pk):
        upload = get_object_or_404(SettlementUpload.objects.select_related("settlement").defer("content"), pk=pk)
        return JsonResponse(uploads.progress_of(upload))


class SettlementDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "finance.view_settlement"
    template_name = "finance/settlement_detail.html"
    queryset = Settlement.objects.select_related("account__back_office")

    def get_context_data(self, **kwargs):
        settlement = self.object
        journals = list(settlement.journals.prefetch_related("lines"))
        postings = {item.key: item for item in WorkItem.objects.filter(
            kind=WorkKind.POST_JOURNAL, key__in=[str(journal.pk) for journal in journals])}
        for journal in journals:
            journal.posting = postings.get(str(journal.pk))
            journal.sums = journal.totals()
        unmapped = list(settlement.unmapped.all())
        add_rule = reverse("admin:mappings_glaccountmap_add")
        for combo in unmapped:
            combo.add_rule_url = add_rule + "?" + urlencode({
                "transaction_type": combo.transaction_type, "amount_type": combo.amount_type,
                "amount_description": combo.amount_description})
        category = self.request.GET.get("category", "")
        lines = settlement.reconciliation_lines.all()
        if category:
            lines = lines.filter(category=category)
        return super().get_context_data(
            journals=journals, unmapped=unmapped, postable=any(j.state == JournalState.READY for j in journals),
            summary=settlement.reconciliation_summary(), category=category, categories=ReconCategory.choices,
            reconciliation=lines[:RECONCILIATION_ROWS], reconciliation_count=lines.count(),
            trail=audit.trail_for(settlement, *settlement.uploads.defer("content")), **kwargs)


class JournalDownloadView(PermissionRequiredMixin, View):
    """The journal as CSV, or journal and reconciliation as XLSX."""

    permission_required = "finance.view_journal"

    def get(self, request, pk, fmt):
        settlement = get_object_or_404(Settlement, pk=pk)
        if fmt not in exports.FORMATS:
            raise Http404(f"No {fmt} download: use csv or xlsx.")
        try:
            content = exports.export_journal(settlement, fmt)
        except exports.JournalNotReady as exc:
            messages.error(request, f"Nothing to download yet: {exc}.")
            return redirect("finance:settlement", pk=pk)
        response = HttpResponse(content, content_type=exports.FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{exports.filename(settlement, fmt)}"'
        return response


class PostJournalView(PermissionRequiredMixin, View):
    """Queue the settlement's ready journals for posting to the back office's GL."""

    permission_required = "finance.change_journal"
    http_method_names = ["post"]

    def post(self, request, pk):
        settlement = get_object_or_404(Settlement.objects.select_related("account__back_office"), pk=pk)
        items = queue_posting(settlement)
        if items:
            audit.record(request, Action.JOURNAL_POST, settlement, detail=f"queued {len(items)} journal(s) for posting")
            target = settlement.account.back_office or "the back office"
            messages.success(request, f"Queued {len(items)} journal(s) of settlement {settlement.settlement_id} "
                                      f"for posting to {target}.")
        else:
            messages.warning(request, f"Settlement {settlement.settlement_id} has no journal ready to post.")
        return redirect("finance:settlement", pk=pk)
