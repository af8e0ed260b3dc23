"""Alert rules (edited by admins), the incidents they open and resolve, kept with their history."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q

from integration_hub.alerts.choices import THRESHOLDS, RuleKind, Severity
from integration_hub.core.fields import EncryptedTextField


def validate_addresses(value):
    for address in addresses(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an e-mail address") from None


def addresses(value):
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


class AlertRule(models.Model):
    """When to tell people, and how: by e-mail and/or a Slack-compatible chat webhook."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=40, choices=RuleKind.choices)
    threshold = models.PositiveIntegerField(
        help_text="What it counts depends on the kind: hours before ship-by, minutes held, minutes of lag, "
                  "minutes of grace, 429 answers, or a count (see docs/operations.md).")
    account = models.ForeignKey("connectors.SellerAccount", null=True, blank=True, on_delete=models.CASCADE,
                                help_text="Blank: every seller account.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    email_to = models.CharField(max_length=500, blank=True, validators=[validate_addresses],
                                help_text="Comma-separated addresses; blank: no e-mail.")
    chat_webhook_url = EncryptedTextField(
        blank=True, help_text="A Slack-compatible incoming webhook URL (it is a secret: stored encrypted, never "
                              "shown again or logged); blank: no chat message.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        url = self.chat_webhook_url or ""
        if url and not url.startswith("https://"):
            raise ValidationError({"chat_webhook_url": "The chat webhook must be an https:// URL."})

    @property
    def threshold_meaning(self):
        return THRESHOLDS[self.kind][0]

    def channels(self):
        """The delivery channels this rule has ("email", "chat")."""
        return [name for name, wanted in (("email", addresses(self.email_to)), ("chat", self.chat_webhook_url))
                if wanted]


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class Alert(models.Model):
    """One incident: opened when a rule first finds something, resolved when it no longer does. People
    are told once when it opens and once when it resolves; the row is kept as its history."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    key = models.CharField(max_length=200, help_text="What it is about, e.g. account:3 or schedule:orders.import.")
    account = models.ForeignKey("connectors.SellerAccount", null=True, blank=True, on_delete=models.SET_NULL)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    summary = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    runbook = models.CharField(max_length=80, blank=True, help_text="Anchor of its entry in docs/operations.md.")
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], condition=Q(resolved_at__isnull=True),
                                               name="one_open_alert_per_rule_and_key")]
        indexes = [models.Index(fields=["resolved_at", "-opened_at"], name="alert_open_idx")]

    def __str__(self):
        return self.summary

    @property
    def is_open(self):
        return self.resolved_at is None

    @property
    def badge(self):
        if self.resolved_at:
            return "secondary"
        return "danger" if self.severity == Severity.CRITICAL else "warning"
