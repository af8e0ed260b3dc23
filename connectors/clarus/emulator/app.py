"""The emulator's WSGI application: OAuth token, tenant and token checks, REST, GraphQL, operator endpoints.

    POST /oauth/token                                  client_credentials -> bearer token
    POST /graphql                                      reads (see schema.py)
    POST /api[/v1]/goods_outs                          create a sales order (JSON:API)
    GET|PATCH /api[/v1]/goods_outs/<id>                read / add lines
    POST /api[/v1]/goods_outs/<id>/cancel              cancel [I]
    POST /api[/v1]/goods_out_processes/process_picks_async   allocate ({"ids": [...]})
    POST /_emulator/<action>                           operator controls, no auth (see server.TenantHandle)

Every call except /_emulator/ needs the X-Clarus-Subdomain header (400 without it) and, past
the token endpoint, a bearer token issued for that same subdomain (401 otherwise).
"""

import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from connectors.clarus.emulator import rest, schema
from connectors.clarus.emulator.records import ClarusError
from connectors.faults import APPLIED, reset_socket

logger = logging.getLogger(__name__)

API_PATH = re.compile(r"^/api(?:/v1)?/(?P<resource>.+?)/?$")
ROUTES = [
    ("POST", re.compile(r"^goods_outs$"), "create_goods_out"),
    ("GET", re.compile(r"^goods_outs/(\d+)$"), "show_goods_out"),
    ("PATCH", re.compile(r"^goods_outs/(\d+)$"), "update_goods_out"),
    ("POST", re.compile(r"^goods_outs/(\d+)/cancel$"), "cancel_goods_out"),
    ("POST", re.compile(r"^goods_out_processes/process_picks_async$"), "process_picks"),
]
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 422: "Unprocessable Entity", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Reply:
    status: int
    body: dict
    drop: bool = False  # lose the reply (the client sees the connection drop); the change may be applied
    hold: float = 0.0  # seconds to wait before answering (or dropping)
    html: bytes = b""  # a proxy's HTML page instead of JSON
    headers: tuple = ()


BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
SCRIPTED = {"429": ("rate limit exceeded, slow down", "too_many_requests"),
            "500": ("internal error", "internal_error"), "503": ("the service is unavailable", "service_unavailable"),
            "504": ("the upstream server timed out", "gateway_timeout")}


def error_reply(status, detail, code=""):
    return Reply(status, {"errors": [{"status": str(status), "code": code, "title": REASONS.get(status, ""),
                                      "detail": detail}]})


class EmulatorApp:
    """WSGI callable bound to one ClarusEmulator."""

    def __init__(self, emulator):
        self.emulator = emulator

    def __call__(self, environ, start_response):
        try:
            reply = self.handle(environ)
        except ClarusError as exc:
            reply = Reply(exc.status, {"errors": [exc.as_json()]})
        except rest.Invalid as exc:
            reply = Reply(422, {"errors": [e.as_json() for e in exc.errors]})
        except Exception:  # the emulator must answer like a server, not crash the thread
            logger.exception("emulator error")
            reply = error_reply(500, "internal error")
        if reply.hold:
            time.sleep(reply.hold)  # outside the emulator's lock: other calls go on meanwhile
        if reply.drop:
            reset_socket(environ["clarus.socket"])
            raise ConnectionAbortedError("reply dropped on purpose")  # wsgiref ends the request quietly
        payload = reply.html or json.dumps(reply.body, default=str).encode()
        content_type = "text/html" if reply.html else "application/vnd.api+json"
        start_response(f"{reply.status} {REASONS.get(reply.status, '')}", [
            ("Content-Type", content_type), ("Content-Length", str(len(payload))), *reply.headers])
        return [payload]

    def faulted(self, operation, call):
        """The reply to a call under the fault plan's fault for `operation` (see connectors.faults)."""
        plan = self.emulator.fault_plan
        fault = plan.next(operation)
        hold = plan.hold_seconds if fault in ("timeout", "applied_then_timeout", "latency") else 0.0
        if fault in SCRIPTED:
            reply = error_reply(int(fault), *SCRIPTED[fault])
            if fault == "429":
                reply.headers = (("Retry-After", "1"),)
            return reply
        if fault == "html_502":
            return Reply(502, {}, html=BAD_GATEWAY_HTML)
        if fault in ("reset", "timeout"):
            return Reply(0, {}, drop=True, hold=hold)
        reply = call()
        reply.hold = hold
        if fault in APPLIED:
            reply.drop = True
        return reply

    def handle(self, environ):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if path.startswith("/_emulator/"):
            return Reply(200, {"data": self.emulator.admin(path.removeprefix("/_emulator/").strip("/"),
                                                           _json(raw))})
        if self.emulator.outage:
            return error_reply(self.emulator.outage, "the service is unavailable", "service_unavailable")
        subdomain = environ.get("HTTP_X_CLARUS_SUBDOMAIN", "")
        if not subdomain:
            return error_reply(400, "the X-Clarus-Subdomain header is required", "missing_subdomain")
        if path == "/oauth/token":
            return self.faulted("token", lambda: self.token(subdomain, environ, raw))
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        tenant = self.emulator.tenant_for_token(token, subdomain)
        if tenant is None:
            return error_reply(401, "missing, expired or invalid access token for this subdomain", "unauthorized")
        if path.rstrip("/") == "/graphql":
            body = _json(raw)
            name = body.get("operationName") if isinstance(body, dict) else None
            return self.faulted(name or "graphql", lambda: self.graphql(tenant, method, body))
        return self.api(tenant, method, path, raw)

    def graphql(self, tenant, method, body):
        if method != "POST":
            return error_reply(405, "use POST for GraphQL")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return error_reply(400, "a GraphQL request needs a query string", "invalid_body")
        with self.emulator.lock:
            return Reply(200, schema.execute(tenant, body["query"], body.get("variables"), body.get("operationName")))

    def token(self, subdomain, environ, raw):
        if environ.get("CONTENT_TYPE", "").startswith("application/json"):
            fields = _json(raw)
        else:
            fields = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        if fields.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        issued = self.emulator.issue_token(subdomain, fields.get("client_id"), fields.get("client_secret"))
        if issued is None:
            return Reply(401, {"error": "invalid_client"})
        token, lifetime = issued
        return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime})

    def api(self, tenant, method, path, raw):
        match = API_PATH.match(path)
        if not match:
            return error_reply(404, f"no such path {path}", "not_found")
        allowed = False
        for route_method, pattern, name in ROUTES:
            found = pattern.match(match["resource"])
            if found:
                allowed = True
                if route_method == method:
                    def call(name=name, found=found):
                        with self.emulator.lock:
                            return getattr(self, name)(tenant, _json(raw), *found.groups())

                    return self.faulted(name, call)
        return error_reply(405 if allowed else 404, f"{method} {path} is not supported")

    def create_goods_out(self, tenant, body):
        order = rest.create_goods_out(tenant, body)
        return Reply(201, {"data": rest.goods_out_resource(order)})

    def show_goods_out(self, tenant, _body, goods_out_id):
        return Reply(200, {"data": rest.goods_out_resource(tenant.find("goods_outs", int(goods_out_id), "goods out"))})

    def update_goods_out(self, tenant, body, goods_out_id):
        order = tenant.find("goods_outs", int(goods_out_id), "goods out")
        return Reply(200, {"data": rest.goods_out_resource(rest.update_goods_out(tenant, order, body))})

    def cancel_goods_out(self, tenant, _body, goods_out_id):
        order = tenant.cancel(tenant.find("goods_outs", int(goods_out_id), "goods out"))
        return Reply(200, {"data": rest.goods_out_resource(order)})

    def process_picks(self, tenant, body):
        return Reply(200, rest.process_picks(tenant, body))


def _json(raw):
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ClarusError("the request body is not valid JSON", status=400, code="invalid_json") from None
