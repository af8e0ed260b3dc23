from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import DetailView, ListView

from integration_hub.alerts.models import Alert
from integration_hub.exchanges.models import Exchange
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem


class AlertListView(PermissionRequiredMixin, ListView):
    """Open incidents first, then the history (newest first)."""

    permission_required = "alerts.view_alert"
    template_name = "alerts/alert_list.html"
    paginate_by = 100

    def get_queryset(self):
        alerts = Alert.objects.select_related("rule", "account")
        if self.request.GET.get("show") != "all":
            alerts = alerts.open()
        return alerts.order_by("resolved_at", "-opened_at") if self.request.GET.get("show") != "all" else alerts

    def get_context_data(self, **kwargs):
        return super().get_context_data(showing_all=self.request.GET.get("show") == "all",
                                         open_count=Alert.objects.open().count(), **kwargs)


class AlertDetailView(PermissionRequiredMixin, DetailView):
    """One incident: what it is, what to do (the runbook entry), and every delivery of it."""

    permission_required = "alerts.view_alert"
    template_name = "alerts/alert_detail.html"
    queryset = Alert.objects.select_related("rule", "account")

    def get_context_data(self, **kwargs):
        alert = self.object
        return super().get_context_data(
            deliveries=WorkItem.objects.filter(kind=WorkKind.DELIVER_ALERT, key__startswith=f"{alert.pk}:")
            .order_by("created_at"),
            exchanges=Exchange.objects.filter(system="alerts", correlation_id=f"alert:{alert.pk}").order_by(
                "started_at"), **kwargs)
