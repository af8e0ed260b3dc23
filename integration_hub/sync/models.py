from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from integration_hub.sync.choices import LANES, STATE_BADGES, WorkKind, WorkState


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
    attempts = models.PositiveIntegerField(
        default=0, help_text="Tries that count towards max_attempts: transient failures are refunded.")
    max_attempts = models.PositiveIntegerField(default=8, help_text="Unexpected errors (bugs, lost workers) allowed.")
    waits = models.PositiveIntegerField(default=0, help_text="Transient failures waited out (5xx, 429, open circuit).")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    priority_at = models.DateTimeField(
        null=True, blank=True, help_text="The business time the work must beat (the order's ship-by).")
    is_prime = models.BooleanField(default=False)
    recency = models.BigIntegerField(
        default=0, help_text="Higher first on equal ship-by and Prime: for a notified read, the older its first "
                             "unread change the higher (see orders.intake.OLDEST_FIRST); 0 for other work.")
    deadline = models.DateTimeField(null=True, blank=True, help_text="Transient failures are retried until then.")
    dead_at = models.DateTimeField(null=True, blank=True)
    rerun = models.BooleanField(default=False, help_text="Asked again while running: runs once more after.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = WorkItemQuerySet.as_manager()

    # Most urgent first: earliest ship-by, Prime first on ties, then the newest notified change (the search
    # reads the older ones soon anyway), then the longest waiting.
    URGENCY = (F("priority_at").asc(nulls_last=True), "-is_prime", "-recency", "next_attempt_at", "pk")

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("retry_order_work", "Can retry dead order work (import, send, cancel)"),
            ("retry_stock_work", "Can retry dead stock pushes"),
            ("retry_confirmations", "Can retry dead shipment confirmations"),
            ("retry_finance_work", "Can retry dead settlement imports and journal posts"),
            ("retry_alert_delivery", "Can retry dead alert deliveries"),
        ]
        constraints = [
            # Idempotency: one row per unit of work, whoever asks for it and however often.
            models.UniqueConstraint(fields=["kind", "key"], name="unique_work_per_key"),
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts") + 1), name="attempts_bounded"),
        ]
        indexes = [
            # The sweeper's query: WorkItem.objects.due().
            models.Index(fields=["next_attempt_at"], condition=Q(state__in=["pending", "retrying"]),
                         name="work_due"),
            # Workers' claim, one per lane: WorkItem.objects.due().filter(kind__in=LANES[lane]).order_by(*URGENCY).
            *(models.Index(F("priority_at").asc(nulls_last=True), F("is_prime").desc(), F("recency").desc(),
                           "next_attempt_at", "id",
                           condition=Q(state__in=["pending", "retrying"], kind__in=kinds), name=f"work_urgent_{lane}")
              for lane, kinds in LANES.items()),
            # Dashboard: failed jobs (dead letters) by kind.
            models.Index(fields=["kind", "-updated_at"], condition=Q(state="dead"), name="work_dead"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"

    @property
    def badge(self):
        return STATE_BADGES[self.state]


class Cursor(models.Model):
    """Where an incremental read stopped (order watermark per account, dispatch cursor per connection)."""

    name = models.CharField(max_length=200, unique=True)
    value = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name}={self.value}"

    @classmethod
    def read(cls, name, default=""):
        return cls.objects.filter(name=name).values_list("value", flat=True).first() or default

    @classmethod
    def write(cls, name, value):
        cls.objects.update_or_create(name=name, defaults={"value": str(value)})


class Schedule(models.Model):
    """A repeating job and its last-known state, which the dashboard shows."""

    name = models.CharField(max_length=100, unique=True)
    interval_seconds = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
