from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Action(models.TextChoices):
    ORDER_HOLD = "order.hold", "Held an order"
    ORDER_RELEASE = "order.release", "Released an order"
    ORDER_REFETCH = "order.refetch", "Re-fetched an order from Amazon"
    WORK_RETRY = "work.retry", "Retried a dead letter"
    SETTLEMENT_UPLOAD = "settlement.upload", "Uploaded a settlement report"
    JOURNAL_POST = "journal.post", "Queued journals for posting"
    CONNECTION_ADD = "connection.add", "Added a connection"
    CONNECTION_CHANGE = "connection.change", "Changed a connection"
    CONNECTION_DELETE = "connection.delete", "Deleted a connection"
    QUEUE = "queue", "Acted on the RQ queues"
    CATALOGUE_ASK = "catalogue.ask", "Asked Amazon for the listings (onboarding)"
    CATALOGUE_LINK = "catalogue.link", "Linked SKUs from a catalogue review"


class AuditEvent(models.Model):
    """One action a person took. Kept when the user or the object is deleted (names are copied)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=40, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.TextField(blank=True, help_text="What was done, in words; never a secret's value.")
    source = models.CharField(max_length=10, help_text="web, api, admin or queues")
    ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.get_action_display()} {self.object_repr}"
