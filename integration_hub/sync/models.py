from django.db import models
from django.db.models import Q
from django.utils import timezone

from integration_hub.sync.choices import WorkKind, WorkState


class WorkItemQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(state__in=[WorkState.PENDING, WorkState.RETRYING], next_attempt_at__lte=now)

    def dead(self):
        return self.filter(state=WorkState.DEAD)

    def open(self):
        return self.filter(state__in=WorkState.open())


class WorkItem(models.Model):
    """One unit of work (the outbox). RQ only carries its id; this row decides what is done."""

    kind = models.CharField(max_length=30, choices=WorkKind.choices)
    key = models.CharField(max_length=200, help_text="What the work is about: order id, shipment id, SKU...")
    account = models.ForeignKey("connectors.SellerAccount", null=True, blank=True, on_delete=models.CASCADE)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=WorkState.choices, default=WorkState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Idempotency: one row per unit of work, whoever asks for it and however often.
            models.UniqueConstraint(fields=["kind", "key"], name="unique_work_per_key"),
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts") + 1), name="attempts_bounded"),
        ]
        indexes = [
            # The sweeper's query: WorkItem.objects.due().
            models.Index(fields=["next_attempt_at"], condition=Q(state__in=["pending", "retrying"]),
                         name="work_due"),
            # Dashboard: failed jobs (dead letters) by kind.
            models.Index(fields=["kind", "-updated_at"], condition=Q(state="dead"), name="work_dead"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"
