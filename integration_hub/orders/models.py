from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from integration_hub.core.fields import EncryptedTextField
from integration_hub.orders.choices import HUB_STATE_BADGES, HubState, OrderStatus

# back_office_status values the back-office watch writes when the warehouse will not ship an order,
# and when it has shipped one whose dispatch never reached the hub (so it would never be confirmed).
NOT_FOUND, CANCELLED_THERE, DISPATCHED_THERE = "NOT FOUND", "CANCELLED", "DISPATCHED"
LOST_STATUSES = (NOT_FOUND, CANCELLED_THERE)


class OrderQuerySet(models.QuerySet):
    def held(self):
        return self.filter(hub_state=HubState.HELD)

    def awaiting_dispatch(self):
        return self.filter(status__in=[OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED])

    def late_to_dispatch(self, now=None):
        """Sent to the back office, nothing dispatched yet, and past the ship-by time (dashboard)."""
        return self.awaiting_dispatch().filter(
            hub_state=HubState.SENT, shipments__isnull=True, latest_ship_date__lt=now or timezone.now()
        )

    def lost_in_back_office(self):
        """Sent and still to ship on Amazon, but the back office says it cancelled or does not have it."""
        return self.awaiting_dispatch().filter(hub_state=HubState.SENT, back_office_status__in=LOST_STATUSES)

    def dispatched_unrecorded(self):
        """The back office says it shipped, but no shipment reached the hub: nothing will confirm it."""
        return self.awaiting_dispatch().filter(hub_state=HubState.SENT, shipments__isnull=True,
                                               back_office_status=DISPATCHED_THERE)

    def cancel_refused(self):
        """Amazon cancelled it, the back office refused to (picked or shipped): someone must stop it."""
        return self.exclude(cancel_refused="").exclude(hub_state=HubState.CANCELLED)

    def buyer_asked_to_cancel(self):
        """Still to ship, and the buyer asked Amazon to cancel: cancel in Seller Central or ship."""
        return self.awaiting_dispatch().exclude(buyer_cancel_reason="").exclude(hub_state=HubState.CANCELLED)

    def pii_expired(self, now=None):
        """Orders whose buyer data must be erased (delivered longer ago than the retention period)."""
        from django.conf import settings

        cutoff = (now or timezone.now()) - timezone.timedelta(days=settings.PII_RETENTION_DAYS)
        return self.filter(pii_erased_at__isnull=True).filter(
            Q(latest_delivery_date__lt=cutoff) | Q(latest_delivery_date__isnull=True, purchase_date__lt=cutoff)
        )


class Order(models.Model):
    """An Amazon order as the hub knows it, and where it stands in the back office."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.PROTECT, related_name="orders")
    amazon_order_id = models.CharField(max_length=19)
    marketplace_id = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    amazon_status = models.CharField(max_length=30, blank=True, help_text="Status word as Amazon sent it.")
    hub_state = models.CharField(max_length=10, choices=HubState.choices, default=HubState.RECEIVED)
    hold_reason = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True, help_text="When it was last put on hold.")
    held_for_mapping = models.BooleanField(
        default=False, help_text="Held by validation: re-checked by itself when a SKU link or ship-level map is saved.")
    back_office_ref = models.CharField(max_length=60, blank=True)
    back_office_status = models.CharField(max_length=40, blank=True)
    fulfillment_channel = models.CharField(max_length=3, default="MFN")
    ship_service_level = models.CharField(max_length=100, blank=True)
    ship_method = models.CharField(max_length=100, blank=True, help_text="Warehouse ship method to use.")
    is_prime = models.BooleanField(default=False)
    is_business = models.BooleanField(default=False)
    purchase_date = models.DateTimeField()
    last_update_date = models.DateTimeField()
    earliest_ship_date = models.DateTimeField(null=True, blank=True)
    latest_ship_date = models.DateTimeField(null=True, blank=True)
    latest_delivery_date = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    order_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Buyer personal data: encrypted at rest (Amazon DPP) and erased after the retention period.
    buyer_name = EncryptedTextField(blank=True, purpose="buyer_data")
    buyer_email = EncryptedTextField(blank=True, purpose="buyer_data")
    pii_erased_at = models.DateTimeField(null=True, blank=True)
    send_attempted_at = models.DateTimeField(
        null=True, blank=True, help_text="When a create was first tried: from then on the back office may hold it.")
    buyer_cancel_reason = models.CharField(
        max_length=200, blank=True, help_text="The buyer asked Amazon to cancel (Orders API CANCELLATION data).")
    cancel_refused = models.TextField(
        blank=True, help_text="The back office refused to cancel it (picked or shipped): someone must stop it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-purchase_date"]
        permissions = [("view_buyer_data", "Can see buyer names, addresses and contact details")]
        constraints = [
            models.UniqueConstraint(fields=["account", "amazon_order_id"], name="unique_amazon_order_per_account"),
            models.CheckConstraint(
                condition=~Q(hub_state=HubState.HELD) | ~Q(hold_reason=""), name="held_order_has_reason"
            ),
        ]
        indexes = [
            # Dashboard: held orders, oldest ship-by first.
            models.Index(fields=["latest_ship_date"], condition=Q(hub_state="held"), name="order_held_ship_by"),
            # Dashboard: Order.objects.cancel_refused() and buyer_asked_to_cancel().
            models.Index(fields=["latest_ship_date"], condition=~Q(cancel_refused="") | ~Q(buyer_cancel_reason=""),
                         name="order_cancel_attention"),
            # Dashboard: Order.objects.late_to_dispatch() (sent orders by ship-by).
            models.Index(fields=["latest_ship_date"], condition=Q(hub_state="sent"), name="order_sent_ship_by"),
            # Intake: how many changes an owed re-read would page (orders.windows.Walk.owed_from).
            models.Index(fields=["account", "last_update_date"], name="order_account_changed"),
        ]

    def __str__(self):
        return self.amazon_order_id

    @property
    def badge(self):
        return HUB_STATE_BADGES[self.hub_state]

    HOLD_FIELDS = ["hub_state", "hold_reason", "held_for_mapping", "held_at", "updated_at"]

    def hold(self, reason, for_mapping=False, save=True):
        """Hold it off the warehouse floor. `for_mapping`: held by validation (a missing SKU link or
        ship-level map), so it is validated again and released by itself when ops add the mapping.
        With save=False the caller saves HOLD_FIELDS (many orders in one UPDATE)."""
        if self.hub_state in (HubState.SENT, HubState.CANCELLED):
            raise ValidationError(f"order {self} is {self.get_hub_state_display().lower()} and cannot be held")
        now = timezone.now()
        was = self.hub_state
        if self.hub_state != HubState.HELD:
            self.held_at = now
        self.hub_state = HubState.HELD
        self.hold_reason = reason
        self.held_for_mapping = for_mapping
        self.updated_at = now
        # Only from the state this copy was read in: a copy read a while ago (a worker's batch) must not
        # undo a cancellation, a send or an ops hold committed since.
        if save and not Order.objects.filter(pk=self.pk, hub_state=was).update(
                **{name: getattr(self, name) for name in self.HOLD_FIELDS}):
            self.refresh_from_db(fields=["hub_state", "hold_reason", "held_for_mapping", "held_at"])
            raise ValidationError(f"order {self} changed meanwhile ({self.hub_state}) and was not held")

    def release(self):
        if self.hub_state != HubState.HELD:
            raise ValidationError(f"order {self} is not held")
        self.hub_state = HubState.RECEIVED
        self.hold_reason = ""
        self.held_for_mapping = False
        self.save(update_fields=["hub_state", "hold_reason", "held_for_mapping", "updated_at"])

    def mark_cancelled(self):
        if self.hub_state == HubState.CANCELLED:
            return
        self.hub_state = HubState.CANCELLED
        self.hold_reason = ""
        self.save(update_fields=["hub_state", "hold_reason", "updated_at"])

    def cancel_unless_in_back_office(self):
        """Cancel in the hub alone if the back office cannot hold the order; return whether it did.

        It may from the moment a create is first tried (`begin_send`): a create whose reply was lost
        may have landed, or still be queued there. A compare-and-swap against `begin_send`, so a
        create starting at the same moment either is marked first, and this does nothing, or finds
        the order cancelled and is not sent.
        """
        cancelled = (Order.objects.filter(pk=self.pk, back_office_ref="", send_attempted_at__isnull=True)
                     .exclude(hub_state=HubState.SENT)
                     .update(hub_state=HubState.CANCELLED, hold_reason="", updated_at=timezone.now()))
        self.refresh_from_db(fields=["hub_state", "hold_reason", "back_office_ref", "updated_at"])
        return bool(cancelled)

    def begin_send(self, ship_method=None, lines=()):
        """Note that a create is about to be tried (and the warehouse ship method it carries), and keep on
        `lines` the item code and pack multiplier they are sent with; False (nothing changed) if the order
        is no longer to be sent, or Amazon's copy of it changed since this one was read. One statement."""
        table, line_table = Order._meta.db_table, OrderLine._meta.db_table
        params = {"pk": self.pk, "received": HubState.RECEIVED, "copy": self.last_update_date,
                  "now": timezone.now(), "ship_method": ship_method}
        codes = ""
        if lines:
            rows = ", ".join(f"(%(line{n})s::bigint, %(code{n})s, %(pack{n})s::integer)" for n in range(len(lines)))
            for n, line in enumerate(lines):
                params.update({f"line{n}": line.pk, f"code{n}": line.item_code, f"pack{n}": line.pack_multiplier})
            codes = (f", codes AS (UPDATE {line_table} line SET item_code = sent.code, pack_multiplier = sent.pack "
                     f"FROM (VALUES {rows}) AS sent (id, code, pack) "
                     f"WHERE line.id = sent.id AND line.order_id IN (SELECT id FROM marked))")
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH marked AS (UPDATE {table} SET send_attempted_at = COALESCE(send_attempted_at, %(now)s), "
                "ship_method = COALESCE(%(ship_method)s, ship_method) "
                "WHERE id = %(pk)s AND hub_state = %(received)s AND last_update_date = %(copy)s RETURNING id)"
                f"{codes} SELECT count(*) FROM marked", params)
            return bool(cursor.fetchone()[0])

    def mark_sent(self, back_office_ref):
        """Store the reference of the sales order the back office has just created.

        Whatever happened while the create was in flight, the back office holds the order now, so the
        reference is always kept. A held order stays held. One cancelled meanwhile is SENT, as after
        any other cancellation of a sent order: the caller sees `status` CANCELLED and must queue
        CANCEL_ORDER (only the back office can stop the warehouse shipping it). Refreshes the instance.
        One UPDATE decides on the row as it stands, so a hold committed meanwhile is never overwritten.
        """
        with connection.cursor() as cursor:  # UPDATE ... RETURNING: the row as it now stands, in one statement
            cursor.execute(
                f"UPDATE {Order._meta.db_table} SET back_office_ref = %s, updated_at = %s, "
                "hub_state = CASE WHEN hub_state = %s THEN hub_state ELSE %s END "
                "WHERE id = %s RETURNING hub_state, status, ship_method, updated_at",
                [back_office_ref, timezone.now(), HubState.HELD, HubState.SENT, self.pk])
            row = cursor.fetchone()
        if row is None:
            raise Order.DoesNotExist(f"order {self.pk} is gone")
        self.back_office_ref = back_office_ref
        self.hub_state, self.status, self.ship_method, self.updated_at = row


def attach_accounts(orders):
    """Give orders their seller account (with its back office), read once per account rather than joined
    to every row: each joined row would decrypt the account's secrets again. Returns the orders."""
    from connectors.models import SellerAccount

    accounts = SellerAccount.objects.select_related("back_office").in_bulk({order.account_id for order in orders})
    for order in orders:
        order.account = accounts[order.account_id]
    return orders


# Buyer data: decrypted on load, so left out (deferred) where a batch does not use it.
BUYER_FIELDS = ("buyer_name", "buyer_email")


class Address(models.Model):
    """The ship-to address, split into fields; the personal parts are encrypted at rest (Amazon DPP)
    and everything is erased with the buyer data after the retention period."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="address")
    name = EncryptedTextField(blank=True, purpose="buyer_data")
    company = EncryptedTextField(blank=True, purpose="buyer_data")
    line1 = EncryptedTextField(blank=True, purpose="buyer_data")
    line2 = EncryptedTextField(blank=True, purpose="buyer_data")
    line3 = EncryptedTextField(blank=True, purpose="buyer_data")
    city = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    phone = EncryptedTextField(blank=True, purpose="buyer_data")

    def __str__(self):
        return f"{self.city} {self.postcode}".strip()


class OrderLine(models.Model):
    """One Amazon order item; prices are Amazon's, kept exactly as sent."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    order_item_id = models.CharField(max_length=20)
    sku = models.CharField(max_length=100)
    asin = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=500, blank=True)
    item_code = models.CharField(max_length=60, blank=True, help_text="Back-office item code from the SKU link.")
    pack_multiplier = models.PositiveIntegerField(
        default=1, help_text="Back-office units per Amazon unit when the order was sent (dispatches convert back)."
    )
    quantity_ordered = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    item_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    item_tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    promotion_discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["order", "order_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "order_item_id"], name="unique_order_item"),
            models.CheckConstraint(
                condition=Q(quantity_shipped__lte=models.F("quantity_ordered")), name="shipped_within_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.order_item_id} {self.sku} x{self.quantity_ordered}"
