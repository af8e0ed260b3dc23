"""The emulator's WSGI application: faults, authentication, quotas, then the operation."""

from __future__ import annotations

import logging
import time
import uuid

from connectors.faults import APPLIED, DropConnection, reset_socket

from . import admin, auth, documents, feeds, listings, orders_2026, orders_v0, reports, shipments, sqs
from .quotas import QUOTA_EXCEEDED_MESSAGE
from .web import REASONS, ApiError, Request, Response, match

logger = logging.getLogger(__name__)

ROUTES = [
    *auth.routes,
    *orders_v0.routes,
    *shipments.routes,
    *orders_2026.routes,
    *listings.routes,
    *feeds.routes,
    *reports.routes,
    *documents.routes,
    *admin.routes,
    *sqs.routes,
]
BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
SCRIPTED_ERRORS = {
    "429": ("QuotaExceeded", QUOTA_EXCEEDED_MESSAGE),
    "500": ("InternalFailure", "We encountered an internal error. Please try again."),
    "503": ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
    "504": ("GatewayTimeout", "The request timed out. Please try again."),
    "400": ("InvalidInput", "The request is not valid (a permanent fault the emulator was told to inject)."),
}
# Headers the models declare for each status: x-amzn-RateLimit-Limit only on these.
RATE_LIMIT_STATUSES = {200, 201, 202, 204, 400, 404}


class EmulatorApp:
    """WSGI callable serving SP-API, Login with Amazon, presigned documents and /_emulator admin."""

    def __init__(self, state):
        self.state = state

    def __call__(self, environ, start_response):
        try:
            return self.serve(environ, start_response)
        except DropConnection:
            reset_socket(environ["emulator.socket"])
            raise ConnectionResetError("the emulator dropped the connection (scripted fault)") from None

    def serve(self, environ, start_response):
        request = Request(environ)
        try:
            route, params = match(ROUTES, request)
            request.params = params
            response = self.dispatch(route, request)
        except ApiError as error:
            response = error.response()
        except DropConnection:
            raise
        except Exception:  # noqa: BLE001 - the emulator answers 500 like Amazon, and says why in its log
            logger.exception("emulator failed on %s %s", request.method, request.path)
            response = ApiError(
                500, "InternalFailure", "We encountered an internal error. Please try again."
            ).response()
        self.add_request_id(response, request)
        if not request.path.startswith("/_emulator/") or request.path.startswith("/_emulator/documents/"):
            with self.state.lock:
                self.state.requests.append((request.method, request.path, response.status))
        headers = [(name, str(value)) for name, value in response.headers.items()]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {REASONS.get(response.status, '')}", headers)
        return [response.body]

    def add_request_id(self, response, request):
        if request.path.startswith(("/orders/", "/tokens/", "/listings/", "/feeds/", "/reports/")):
            response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))

    def dispatch(self, route, request):
        state = self.state
        if request.path.startswith("/_emulator/documents/"):  # presigned S3 documents: faults, no quota
            name = "uploadDocument" if request.method == "PUT" else "downloadDocument"
            return self.with_scripted_fault(name, lambda: route.handler(state, request))
        if not route.operation:  # LWA and admin: no SP-API behaviour
            return route.handler(state, request)
        return self.with_scripted_fault(route.operation, lambda: self.sp_api(route, request), request)

    def with_scripted_fault(self, operation, call, request=None):
        """Run the call under the fault plan's fault for this operation, if any (see connectors.faults)."""
        plan = self.state.fault_plan
        fault = plan.next(operation)
        if fault in ("timeout", "applied_then_timeout", "latency"):
            hold = plan.hold_seconds
        if fault == "accepted_then_rejected" and request is not None:
            request.rejected_later = True  # the handler answers ACCEPTED and records the rejection
        if fault in ("429", "500", "503", "504", "400"):
            code, message = SCRIPTED_ERRORS[fault]
            return ApiError(int(fault), code, message).response()
        if fault == "html_502":
            return Response(502, BAD_GATEWAY_HTML, {"Content-Type": "text/html"})
        if fault in ("reset", "timeout"):
            if fault == "timeout":
                time.sleep(hold)
            raise DropConnection()
        if fault == "latency":
            time.sleep(hold)
        try:
            response = call()
        except ApiError as error:
            response = error.response()
        if fault in APPLIED:
            if fault == "applied_then_timeout":
                time.sleep(hold)
            raise DropConnection()
        return response

    def sp_api(self, route, request):
        state = self.state
        faults = state.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        with state.lock:
            roll_502 = state.random.random() < faults.html_502_rate
            roll_error = state.random.random() < faults.error_rate
            roll_503 = state.random.random() < 0.5
        if roll_502:
            return Response(502, BAD_GATEWAY_HTML, {"Content-Type": "text/html"})
        token = auth.authenticate(state, request)
        auth.check_token_kind(token, route.operation, request)
        request.token = token
        with state.lock:
            allowed = not faults.throttle_all and state.quotas.take(state.seller_id, route.operation)
            rate = state.quotas.rate(route.operation)
        if not allowed:
            raise ApiError(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE, "")
        if roll_error:
            if roll_503:
                raise ApiError(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")
            raise ApiError(500, "InternalFailure", "We encountered an internal error. Please try again.")
        try:
            response = route.handler(state, request)
        except ApiError as error:
            response = error.response()
        if response.status in RATE_LIMIT_STATUSES:
            response.headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
        return response
