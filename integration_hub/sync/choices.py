from django.db import models


class WorkKind(models.TextChoices):
    IMPORT_ORDER = "import_order", "Import Amazon order"
    SEND_ORDER = "send_order", "Send order to back office"
    CANCEL_ORDER = "cancel_order", "Cancel order in back office"
    CONFIRM_SHIPMENT = "confirm_shipment", "Confirm shipment on Amazon"
    PUSH_STOCK = "push_stock", "Push stock to Amazon"
    IMPORT_SETTLEMENT = "import_settlement", "Import settlement report"
    POST_JOURNAL = "post_journal", "Post journal to back office"
    RECHECK_HELD = "recheck_held", "Re-check held orders after a mapping change"
    READ_DISPATCH = "read_dispatch", "Read a dispatch the back office announced"
    DELIVER_ALERT = "deliver_alert", "Deliver an alert (e-mail or chat)"


# The RQ queue each kind travels on: confirmations have a lane of their own.
QUEUE_FOR_KIND = {
    WorkKind.CONFIRM_SHIPMENT: "shipments",
    WorkKind.READ_DISPATCH: "shipments",
    WorkKind.IMPORT_ORDER: "orders",
    WorkKind.SEND_ORDER: "orders",
    WorkKind.CANCEL_ORDER: "orders",
    WorkKind.RECHECK_HELD: "orders",
    WorkKind.PUSH_STOCK: "stock",
    WorkKind.IMPORT_SETTLEMENT: "finance",
    WorkKind.POST_JOURNAL: "finance",
    WorkKind.DELIVER_ALERT: "default",
}

# Who may retry a dead letter of each kind: ops retry order and stock work, admins everything
# (confirmations and finance work included); see ROLE_PERMISSIONS.
RETRY_PERMISSION = {
    WorkKind.IMPORT_ORDER: "sync.retry_order_work",
    WorkKind.SEND_ORDER: "sync.retry_order_work",
    WorkKind.CANCEL_ORDER: "sync.retry_order_work",
    WorkKind.RECHECK_HELD: "sync.retry_order_work",
    WorkKind.PUSH_STOCK: "sync.retry_stock_work",
    WorkKind.CONFIRM_SHIPMENT: "sync.retry_confirmations",
    WorkKind.READ_DISPATCH: "sync.retry_confirmations",
    WorkKind.IMPORT_SETTLEMENT: "sync.retry_finance_work",
    WorkKind.POST_JOURNAL: "sync.retry_finance_work",
    WorkKind.DELIVER_ALERT: "sync.retry_alert_delivery",
}

# lane -> the kinds its workers take, most urgent first (see engine.run_next).
LANES = {}
for _kind, _lane in QUEUE_FOR_KIND.items():
    LANES.setdefault(_lane, []).append(_kind)


class WorkState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Waiting to retry"
    DONE = "done", "Done"
    DEAD = "dead", "Dead letter"

    @classmethod
    def open(cls):
        return [cls.PENDING, cls.RUNNING, cls.RETRYING]


STATE_BADGES = {
    WorkState.PENDING: "secondary",
    WorkState.RUNNING: "info",
    WorkState.RETRYING: "warning",
    WorkState.DONE: "success",
    WorkState.DEAD: "danger",
}
