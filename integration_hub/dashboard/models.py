from django.db import models

from connectors.models import SellerAccount


class AmazonHealthReport(models.Model):
    """One seller performance report (GET_V2_SELLER_PERFORMANCE_REPORT) asked of Amazon for an account:
    Amazon's own account-health figures, shown beside the hub's (see dashboard.amazon_health)."""

    account = models.ForeignKey(SellerAccount, on_delete=models.CASCADE, related_name="amazon_health_reports")
    report_id = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    done = models.BooleanField(default=False)
    status = models.CharField(max_length=20, blank=True, help_text="Amazon's processingStatus")
    fetched_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # {marketplace id: {"status": NORMAL|AT_RISK|DEACTIVATED, "lsr"|"vtr"|"cancel": {"count", "total", "rate",
    #  "status", "from", "to"}}}; the figures as Amazon reported them.
    marketplaces = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["account", "done", "-requested_at"], name="amazon_health_latest")]

    def __str__(self):
        return f"{self.account} seller performance report {self.report_id} ({self.status or 'asked'})"
