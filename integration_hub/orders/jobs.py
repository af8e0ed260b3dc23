"""Orders in: work-item handlers and repeating jobs (found by the sync app's autodiscovery)."""

from django.utils.dateparse import parse_datetime

from connectors.models import SellerAccount
from integration_hub.orders import connect, intake, sending, services
from integration_hub.orders.choices import HubState
from integration_hub.orders.models import Order
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import DEAD_LETTER_HOOKS, handler
from integration_hub.sync.scheduler import repeating

# searchOrders allows one request every three minutes (burst 20). Intake runs often and spends only
# what the bucket holds (see intake.import_recent), so its pace is the quota's; the reconciliation
# opens a 24-hour window each hour and walks it, page by page, whenever intake leaves it tokens.
IMPORT_EVERY = 20
RECONCILE_EVERY = 300
PII_PURGE_EVERY = 24 * 3600
WATCH_EVERY = 15 * 60


def _order_for(item):
    """The order of one SEND_ORDER / CANCEL_ORDER item; DoesNotExist if it is gone."""
    order = sending.orders_for([item]).get(item.pk)
    if order is None:
        raise Order.DoesNotExist(f"no order for work item {item.kind} {item.key}")
    return order


@handler(WorkKind.IMPORT_ORDER)
def import_order(item):
    """Fetch one order from Amazon and store it (key "<account pk>:<order id>")."""
    account_pk, amazon_order_id = item.key.split(":", 1)
    changed_at = (item.payload or {}).get("changed_at")
    return intake.import_order(SellerAccount.objects.get(pk=account_pk), amazon_order_id,
                               parse_datetime(changed_at) if changed_at else None)


@handler(WorkKind.SEND_ORDER, prepare=sending.prepare_sends)
def send_order(item):
    """Create the order in its back office unless it is held (key "<account pk>:<order id>"); a claimed
    batch comes prepared (its orders, their lines, links and maps read at once)."""
    prepared = getattr(item, "prepared", None)
    if prepared is None:
        return sending.send_order(_order_for(item))
    return sending.send_order(*prepared)


def hold_refused_order(item, error):
    """Dead-letter hook: an order the back office refuses (or that keeps failing) is held with the error,
    so it shows on the held list; ops fix the cause and release it, which sends it again."""
    order = _order_for(item)
    if order.hub_state == HubState.RECEIVED:
        order.hold(f"sending to the back office failed: {error[:500]}")


DEAD_LETTER_HOOKS[WorkKind.SEND_ORDER] = hold_refused_order


@handler(WorkKind.RECHECK_HELD)
def recheck_held(item):
    """Release the held orders a saved mapping has fixed (key "account:<pk>" or "all")."""
    scope = item.key.split(":", 1)
    return services.recheck_held(int(scope[1]) if scope[0] == "account" else None)


@handler(WorkKind.CANCEL_ORDER)
def cancel_order(item):
    """Cancel in the back office an order Amazon cancelled after a create was tried."""
    return services.cancel_in_back_office(_order_for(item))


DEAD_LETTER_HOOKS[WorkKind.CANCEL_ORDER] = lambda item, error: services.refuse_cancel(_order_for(item), error)


@repeating("orders.import", every=IMPORT_EVERY, queue="orders")
def import_recent_orders():
    """Incremental import of updated orders for every active account."""
    connect.for_each(SellerAccount.objects.filter(active=True), intake.import_recent)


@repeating("orders.reconcile", every=RECONCILE_EVERY, queue="orders")
def reconcile_orders():
    """Re-read recent order ids and import any the hub does not have."""
    connect.for_each(SellerAccount.objects.filter(active=True), intake.reconcile)


@repeating("orders.watch_back_office", every=WATCH_EVERY, queue="orders")
def watch_back_office():
    """Catch orders the warehouse cancelled or lost while Amazon still expects them shipped."""
    accounts = SellerAccount.objects.filter(active=True, back_office__isnull=False).select_related("back_office")
    connect.for_each(accounts, services.watch_back_office)


@repeating("orders.purge_pii", every=PII_PURGE_EVERY, queue="orders")
def purge_buyer_data():
    """Erase buyer data past the retention period (Amazon DPP: 30 days after delivery)."""
    return services.purge_pii()
