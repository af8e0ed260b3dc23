import time

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from connectors.choices import BackOfficeKind, Region
from integration_hub.core.fields import EncryptedTextField

# Production SP-API endpoints per region (FACTS.md section 7).
SPAPI_ENDPOINTS = {
    Region.NA: "https://sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"


SUCCESS_EVERY = 10.0
_success_written = {}  # (model, pk) -> time.monotonic() of this process's last success write


class ConnectionHealth(models.Model):
    """Last-known state of a connection, which dashboards read instead of scanning the exchange log."""

    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def record_success(self):
        """Note a successful call (one UPDATE, no read-modify-write race), at most every SUCCESS_EVERY
        seconds per process while nothing fails: at hundreds of calls a second, one row per call is
        the hottest row in the database, and "last success" needs no finer grain."""
        key = (type(self).__name__, self.pk)
        now = time.monotonic()
        if now - _success_written.get(key, -SUCCESS_EVERY) < SUCCESS_EVERY:
            return
        type(self).objects.filter(pk=self.pk).update(last_success_at=timezone.now(), consecutive_failures=0)
        _success_written[key] = now

    def record_failure(self, error):
        _success_written.pop((type(self).__name__, self.pk), None)  # the next success is written at once
        type(self).objects.filter(pk=self.pk).update(
            last_error_at=timezone.now(), last_error=str(error)[:2000],
            consecutive_failures=models.F("consecutive_failures") + 1,
        )


class BackOfficeConnection(ConnectionHealth):
    """A warehouse or ERP the hub sends orders to and reads dispatches, stock and the GL from."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=BackOfficeKind.choices)
    endpoint = models.CharField(
        max_length=500, help_text="Base URL (Clarus) or SQLAlchemy database URL (Dynamics SL, Sage 500)."
    )
    username = models.CharField(max_length=200, blank=True, help_text="API client id or SQL login.")
    secret = EncryptedTextField(blank=True, help_text="API client secret or SQL password; stored encrypted.")
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="System-specific settings: account/warehouse ids, company id, procedure names, folders.",
    )
    webhook_token = models.CharField(
        max_length=64, blank=True, help_text="Secret path token for inbound webhooks (Clarus)."
    )
    webhook_signing_key = EncryptedTextField(
        blank=True, help_text="If the sender signs its webhooks: the HMAC-SHA256 key. Deliveries without the right "
                              "signature (header in option webhook_signature_header, default X-Hub-Signature-256) "
                              "are refused. Stored encrypted.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SellerAccount(ConnectionHealth):
    """A merchant of record on Amazon and the back office that fulfils its orders."""

    name = models.CharField(max_length=100, unique=True)
    region = models.CharField(max_length=2, choices=Region.choices, default=Region.EU)
    seller_id = models.CharField(max_length=40, help_text="Merchant token (Seller Central > Account Info).")
    marketplace_ids = ArrayField(models.CharField(max_length=20), default=list)
    unified_stock = models.BooleanField(
        default=True,
        help_text="Quantity is one per SKU for the whole region (unified EU account): push it once per region.",
    )
    lwa_app_id = models.CharField("LWA client id", max_length=200, blank=True)
    lwa_client_secret = EncryptedTextField("LWA client secret", blank=True)
    refresh_token = EncryptedTextField(blank=True)
    endpoint = models.URLField(
        blank=True, help_text="Leave blank for Amazon's production endpoint; set to point at an emulator."
    )
    token_url = models.URLField(blank=True, help_text="Leave blank for Amazon's LWA endpoint.")
    back_office = models.ForeignKey(
        BackOfficeConnection, on_delete=models.PROTECT, null=True, blank=True, related_name="seller_accounts"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["seller_id", "region"], name="unique_seller_per_region"),
        ]

    def __str__(self):
        return self.name

    @property
    def api_endpoint(self):
        return self.endpoint or SPAPI_ENDPOINTS[self.region]

    @property
    def lwa_token_url(self):
        return self.token_url or LWA_TOKEN_URL


class CircuitState(models.Model):
    """Circuit breaker for one API of one account or connection; the dashboard shows it."""

    class State(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"
        HALF_OPEN = "half_open", "Half open (probing)"

    account = models.ForeignKey(SellerAccount, null=True, blank=True, on_delete=models.CASCADE)
    connection = models.ForeignKey(BackOfficeConnection, null=True, blank=True, on_delete=models.CASCADE)
    api = models.CharField(max_length=60, help_text="e.g. orders, feeds, listings, reports.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "connection", "api"], nulls_distinct=False,
                                    name="unique_circuit"),
        ]

    def __str__(self):
        return f"{self.account or self.connection} {self.api}: {self.state}"


class InboundEvent(models.Model):
    """An event id already received (SQS NotificationId, webhook delivery): at-least-once made once."""

    source = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="unique_inbound_event")]

    @classmethod
    def first_time(cls, source, event_id):
        """True the first time an event id is seen, False for every duplicate."""
        _, created = cls.objects.get_or_create(source=source, event_id=str(event_id))
        return created
