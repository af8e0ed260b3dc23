from django.db import models

from connectors.choices import System
from integration_hub.exchanges.choices import OUTCOME_BADGES, Direction, Outcome


class Percentile(models.Aggregate):
    """PostgreSQL percentile_cont over latency_ms."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, fraction):
        super().__init__(models.F("latency_ms"), fraction=float(fraction))


class ExchangeQuerySet(models.QuerySet):
    def failed(self):
        return self.filter(outcome__in=Outcome.failures())

    def since(self, moment):
        return self.filter(started_at__gte=moment)

    def latency_by_operation(self):
        """Calls, failures, 429s and latency percentiles per system and operation (dashboard)."""
        return (
            self.filter(latency_ms__isnull=False)
            .values("system", "operation")
            .annotate(
                calls=models.Count("pk"),
                failures=models.Count("pk", filter=models.Q(outcome__in=Outcome.failures())),
                throttled=models.Count("pk", filter=models.Q(http_status=429)),
                p50=Percentile(0.5), p95=Percentile(0.95),
            )
            .order_by("system", "operation")
        )


class Exchange(models.Model):
    """One call to or from an outside system: saved before the call, completed after."""

    system = models.CharField(max_length=20, choices=System.choices)
    operation = models.CharField(max_length=80)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUTBOUND)
    account = models.ForeignKey("connectors.SellerAccount", null=True, blank=True, on_delete=models.SET_NULL)
    connection = models.ForeignKey(
        "connectors.BackOfficeConnection", null=True, blank=True, on_delete=models.SET_NULL
    )
    correlation_id = models.CharField(max_length=200, blank=True, db_index=True)
    request_summary = models.TextField(blank=True)
    response_summary = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    error = models.TextField(blank=True)
    quota_limit = models.CharField(max_length=40, blank=True, help_text="x-amzn-RateLimit-Limit when sent.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The work item whose run made the call (an id, not a key: exchanges outlive purged work items).
    work_item_id = models.BigIntegerField(null=True, blank=True)

    objects = ExchangeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            # Exchange log page and dashboard latency: newest first, per system and operation.
            models.Index(fields=["system", "operation", "-started_at"], name="exchange_system_op_time"),
            models.Index(fields=["-started_at"], name="exchange_time"),
        ]

    def __str__(self):
        return f"{self.system} {self.operation} {self.correlation_id} {self.outcome}"

    @property
    def badge(self):
        return OUTCOME_BADGES[self.outcome]
