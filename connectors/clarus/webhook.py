"""Inbound Clarus webhooks ("Automations"): the "sales order completed (dispatched)" fast path.

Clarus signs nothing, so the URL carries a per-connection secret (`hooks/clarus/<webhook_token>/`)
and the payload is never trusted: the view only learns *which* goods-out changed, re-reads its
dispatched shipments through GraphQL and hands those to the shipments service. Deliveries are
at-least-once and may come out of order, so:

- a delivery already acted on (same record, same `updated_at`) is acknowledged and skipped;
- a goods-out that Clarus does not show as dispatched yet is acknowledged (202) and forgotten,
  so a later delivery of the same event is acted on; the dispatch poll is the safety net;
- `record_dispatches` is idempotent and keeps dispatches for orders the hub does not know yet.
Other record types (stock adjustments, holds) are acknowledged and ignored: stock is polled.
"""

import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import ConnectorError
from connectors.choices import BackOfficeKind, System
from connectors.clarus.client import ClarusBackOffice
from connectors.models import BackOfficeConnection, InboundEvent
from integration_hub.exchanges.choices import Direction
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)


@csrf_exempt
@login_not_required
@require_POST
def clarus_webhook(request, token):
    connection = BackOfficeConnection.objects.filter(kind=BackOfficeKind.CLARUS, active=True,
                                                     webhook_token=token).exclude(webhook_token="").first()
    if connection is None:
        raise Http404("unknown webhook token")
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
    try:
        dispatches = ClarusBackOffice(connection).dispatches_for_goods_out(goods_out_id)
        if not dispatches:
            _forget(source, event_id)
            return 202, f"goods out {goods_out_id} has no dispatched shipment in Clarus yet; nothing recorded"
        from integration_hub.shipments.services import record_dispatches  # the flows app imports connectors

        record_dispatches(connection, dispatches)
    except ConnectorError as exc:
        _forget(source, event_id)
        logger.warning("Clarus webhook for goods out %s: re-read failed: %s", goods_out_id, exc.message)
        return 503, f"could not re-read goods out {goods_out_id} from Clarus: {exc.message}"
    except Exception:
        _forget(source, event_id)  # let Clarus's redelivery try again
        raise
    return 200, f"recorded {len(dispatches)} dispatch(es) of goods out {goods_out_id}"


def _forget(source, event_id):
    InboundEvent.objects.filter(source=source, event_id=event_id).delete()


def _json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None
