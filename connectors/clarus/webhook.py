"""Inbound Clarus webhooks ("Automations"): the "sales order completed (dispatched)" fast path.

Clarus signs nothing, so the URL carries a per-connection secret (`hooks/clarus/<webhook_token>/`);
a connection may also require an HMAC signature (`connectors.inbound`) for a sender that signs.
The delivery passes the guards (rate limit per address, JSON only, size, signature), is checked
and de-duplicated, and is answered at once (202): the work, re-reading the goods out's dispatched
shipments through GraphQL, is queued on the shipments lane at its order's ship-by urgency, and
retried there if Clarus is down. The payload is never trusted: it only says *which* goods out changed.
Deliveries are at-least-once and may come out of order, so:

- a delivery already acted on (same record, same `updated_at`) is acknowledged and skipped;
- a goods out that Clarus does not show as dispatched yet is forgotten when re-read, so a later
  delivery of the same event is acted on; the dispatch poll is the safety net;
- `record_dispatches` is idempotent and keeps dispatches for orders the hub does not know yet.
Other record types (stock adjustments, holds) are acknowledged and ignored: stock is polled.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors import inbound
from connectors.choices import BackOfficeKind, System
from connectors.clarus.client import ClarusBackOffice
from connectors.models import BackOfficeConnection, InboundEvent
from integration_hub.exchanges.choices import Direction
from integration_hub.exchanges.recorder import record


@csrf_exempt
@login_not_required
@require_POST
def clarus_webhook(request, token):
    refused = inbound.rate_limited(request, "clarus")
    if refused:
        return refused
    connection = BackOfficeConnection.objects.filter(kind=BackOfficeKind.CLARUS, active=True,
                                                     webhook_token=token).exclude(webhook_token="").first()
    if connection is None:
        raise Http404("unknown webhook token")
    refused = inbound.body_refused(request) or inbound.signature_refused(request, connection)
    if refused:
        return refused
    payload = _json(request.body)
    resource = payload.get("data") if isinstance(payload, dict) else None
    reference = ((resource or {}).get("attributes") or {}).get("reference") if isinstance(resource, dict) else ""
    with record(System.CLARUS, "webhook", connection=connection, correlation_id=reference or "",
                request=request.body, direction=Direction.INBOUND) as call:
        status, result = _handle(connection, request.headers, resource)
        if status >= 400:
            call.failed(result, status=status, response={"result": result}, permanent=status < 500)
        else:
            call.done(status=status, response={"result": result})
    return JsonResponse({"result": result}, status=status)


def _handle(connection, headers, resource):
    """(HTTP status, what happened) for one delivery."""
    subdomain = connection.options.get("subdomain")
    if headers.get("X-ClarusWMS-Subdomain") != subdomain:
        return 400, f"X-ClarusWMS-Subdomain must be {subdomain!r} for this connection"
    if not isinstance(resource, dict) or not resource.get("type"):
        return 400, "the body must be a JSON object whose data is a resource with a type and an id"
    if resource["type"] != "goods_outs":
        return 200, f"ignored: {resource['type']} events need no action (stock is polled)"
    goods_out_id = str(resource.get("id", ""))
    if not goods_out_id.isdigit():
        return 400, f"data.id must be the goods out id, got {resource.get('id')!r}"
    updated_at = (resource.get("attributes") or {}).get("updated_at", "")
    source, event_id = f"clarus:{connection.pk}", f"goods_outs:{goods_out_id}:{updated_at}"
    if not InboundEvent.first_time(source, event_id):
        return 200, f"duplicate delivery for goods out {goods_out_id}: already handled"
    from integration_hub.orders.models import Order  # the flows apps import connectors, not the reverse
    from integration_hub.sync.choices import WorkKind
    from integration_hub.sync.engine import submit

    reference = (resource.get("attributes") or {}).get("reference") or ""
    ship_by = (Order.objects.filter(amazon_order_id=reference, account__back_office=connection)
               .values_list("latest_ship_date", flat=True).first()) if reference else None
    submit(WorkKind.READ_DISPATCH, f"{connection.pk}:goods_outs:{goods_out_id}", reset=True, priority_at=ship_by,
           payload={"connection": connection.pk, "goods_out": goods_out_id, "event_id": event_id})
    return 202, f"queued a re-read of goods out {goods_out_id}"


def reread_goods_out(connection, goods_out_id, event_id):
    """The queued work: read the goods out's dispatched shipments from Clarus and record them.
    ConnectorError propagates (the engine waits and retries); nothing dispatched yet forgets the
    event, so Clarus's next delivery of it is acted on."""
    from integration_hub.shipments.recording import record_dispatches  # the flows app imports connectors

    source = f"clarus:{connection.pk}"
    try:
        dispatches = ClarusBackOffice(connection).dispatches_for_goods_out(goods_out_id)
    except Exception:
        _forget(source, event_id)  # a redelivery meanwhile is not mistaken for a duplicate
        raise
    if not dispatches:
        _forget(source, event_id)
        return f"goods out {goods_out_id} has no dispatched shipment in Clarus yet; nothing recorded"
    record_dispatches(connection, dispatches)
    return f"recorded {len(dispatches)} dispatch(es) of goods out {goods_out_id}"


def _forget(source, event_id):
    InboundEvent.objects.filter(source=source, event_id=event_id).delete()


def _json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None
