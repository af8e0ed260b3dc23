"""Shipments out: the confirmation handler, its dead-letter hook and the dispatch poller."""

from connectors.models import BackOfficeConnection
from integration_hub.orders import connect
from integration_hub.shipments import recording, services
from integration_hub.shipments.models import Shipment
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import DEAD_LETTER_HOOKS, handler
from integration_hub.sync.scheduler import repeating

# Late confirmations hurt account health, so the warehouse is asked for dispatches every minute.
POLL_DISPATCHES_EVERY = 60


@handler(WorkKind.CONFIRM_SHIPMENT, prepare=services.prepare_confirms, batch_size=services.confirm_batch_size)
def confirm_shipment(item):
    """Confirm one package on Amazon (key = Shipment pk); a claimed batch comes prepared."""
    prepared = getattr(item, "prepared", None)
    if prepared is None:
        return services.confirm(Shipment.objects.select_related("order__account").get(pk=item.key))
    return services.confirm(*prepared)


DEAD_LETTER_HOOKS[WorkKind.CONFIRM_SHIPMENT] = services.mark_failed


@handler(WorkKind.READ_DISPATCH)
def read_dispatch(item):
    """Re-read a dispatch a back office announced by webhook, and record it (payload: connection,
    goods_out, event_id). Clarus is the one back office that announces dispatches."""
    from connectors.clarus.webhook import reread_goods_out

    connection = BackOfficeConnection.objects.get(pk=item.payload["connection"])
    return reread_goods_out(connection, item.payload["goods_out"], item.payload["event_id"])


@repeating("shipments.poll_dispatches", every=POLL_DISPATCHES_EVERY, queue="shipments")
def poll_all_dispatches():
    """Read new dispatches from every active back office that serves an active seller account."""
    connections = BackOfficeConnection.objects.filter(active=True, seller_accounts__active=True).distinct()
    connect.for_each(connections, recording.poll_dispatches)
