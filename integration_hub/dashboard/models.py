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


class HealthForecast(models.Model):
    """What an account's Late Shipment Rate (10 days) and Valid Tracking Rate (30 days) become in the next
    hours if the orders now due miss their ship-by, worked out every minute (dashboard.forecast)."""

    account = models.ForeignKey(SellerAccount, on_delete=models.CASCADE, related_name="health_forecasts")
    marketplace_id = models.CharField(max_length=20)
    computed_at = models.DateTimeField()
    horizon_hours = models.PositiveSmallIntegerField()
    late = models.PositiveIntegerField(help_text="late orders due in the last 10 days")
    due = models.PositiveIntegerField(help_text="orders due in the last 10 days")
    upcoming = models.PositiveIntegerField(help_text="orders due within the horizon, not confirmed yet")
    to_cross = models.PositiveIntegerField(help_text="late orders among the upcoming that put LSR at or over target")
    valid = models.PositiveIntegerField(help_text="packages confirmed with valid tracking, 30 days")
    packages = models.PositiveIntegerField(help_text="packages confirmed, 30 days")
    waiting = models.PositiveIntegerField(help_text="packages dispatched, not confirmed yet")
    waiting_valid = models.PositiveIntegerField(help_text="of those, with tracking and a carrier Amazon accepts")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "marketplace_id"], name="one_forecast_per_market")]

    def __str__(self):
        return f"{self.account} {self.marketplace_id} forecast at {self.computed_at:%H:%M}"
