from django.db import models
from django.db.models import Q


class StockLevel(models.Model):
    """Stock of one item in one warehouse as the back office measured it (the source of truth)."""

    connection = models.ForeignKey("connectors.BackOfficeConnection", on_delete=models.CASCADE,
                                   related_name="stock_levels")
    item_code = models.CharField(max_length=60)
    warehouse = models.CharField(max_length=30, blank=True)
    on_hand = models.IntegerField()
    allocated = models.IntegerField(default=0)
    available = models.IntegerField()
    measured_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_code", "warehouse"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "item_code", "warehouse"], name="unique_stock_level"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="allocated_not_negative"),
        ]

    def __str__(self):
        return f"{self.item_code}@{self.warehouse or '-'}: {self.available}"


class StockPush(models.Model):
    """The last quantity sent to Amazon for a SKU, so unchanged stock is not sent again."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="stock_pushes")
    sku = models.CharField(max_length=100)
    quantity = models.IntegerField()
    handling_days = models.PositiveSmallIntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField()
    feed_id = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "sku"], name="unique_stock_push"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="pushed_quantity_not_negative"),
        ]

    def __str__(self):
        return f"{self.sku}: {self.quantity}"


class StockFeed(models.Model):
    """A JSON_LISTINGS_FEED of quantity updates, followed until Amazon has processed it."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="stock_feeds")
    feed_id = models.CharField(max_length=40)
    sku_count = models.PositiveIntegerField()
    status = models.CharField(max_length=20, default="IN_QUEUE", help_text="Amazon processingStatus.")
    done = models.BooleanField(default=False)
    accepted = models.PositiveIntegerField(null=True, blank=True)
    errors = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [models.UniqueConstraint(fields=["account", "feed_id"], name="unique_stock_feed")]
        indexes = [
            # The feed follower's query: feeds not yet processed.
            models.Index(fields=["submitted_at"], condition=Q(done=False), name="stock_feed_open"),
        ]

    def __str__(self):
        return f"feed {self.feed_id} ({self.sku_count} SKUs): {self.status}"


class StockCheck(models.Model):
    """A read-back of Amazon's quantities (its listings report) compared with what the hub last pushed."""

    account = models.ForeignKey("connectors.SellerAccount", on_delete=models.CASCADE, related_name="stock_checks")
    report_id = models.CharField(max_length=40)
    status = models.CharField(max_length=20, default="IN_QUEUE", help_text="Amazon processingStatus.")
    done = models.BooleanField(default=False)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skus_checked = models.PositiveIntegerField(null=True, blank=True)
    drifted = models.PositiveIntegerField(null=True, blank=True, help_text="SKUs flagged and pushed again.")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_at"], condition=Q(done=False), name="stock_check_open")]

    def __str__(self):
        return f"stock check {self.report_id} ({self.status})"
