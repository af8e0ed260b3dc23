"""Just enough WSGI for the emulator: requests, JSON/empty responses, Amazon's error envelope, routes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An SP-API failure, answered as `{"errors": [{code, message, details}]}`."""

    def __init__(self, status, code, message, details=""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self):
        body = {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}
        return json_response(self.status, body)


def invalid_input(message, details=""):
    return ApiError(400, "InvalidInput", message, details)


def not_found(message, details=""):
    return ApiError(404, "NotFound", message, details)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})


def empty_response(status=204):
    return Response(status)


class Request:
    """One incoming request; lists in the query may be repeated keys or comma-separated."""

    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = environ.get("PATH_INFO", "") or "/"
        self.raw_query = environ.get("QUERY_STRING", "")
        self.query = parse_qs(self.raw_query, keep_blank_values=True)
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        self.content_type = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        self.params = {}  # filled from the route's named groups

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def arg_list(self, name):
        return [part for value in self.query.get(name, []) for part in value.split(",") if part]

    def arg_choices(self, name, allowed):
        """A list parameter whose values must all be in `allowed`."""
        values = self.arg_list(name)
        unknown = set(values) - set(allowed)
        if unknown:
            raise invalid_input(f"{name} has unknown values: {', '.join(sorted(unknown))}.", name)
        return values

    def arg_time(self, name, default=None):
        """An ISO 8601 date-time parameter as an aware datetime (`default` when absent); 400 when unreadable."""
        from .state import parse_iso  # state imports nothing from here; kept local to stay that way

        raw = self.arg(name)
        if raw is None:
            return default
        moment = parse_iso(raw)
        if moment is None:
            raise invalid_input(f"{name} must be an ISO 8601 date-time, got {raw!r}.", name)
        return moment

    def arg_int(self, name, default, low, high):
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_input(f"{name} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise invalid_input(f"{name} must be between {low} and {high}, got {value}")
        return value

    def json(self):
        if not self.body:
            raise invalid_input("The request body is missing.")
        try:
            data = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid_input("The request body is not valid JSON.", str(exc)) from None
        if not isinstance(data, dict):
            raise invalid_input("The request body must be a JSON object.")
        return data

    def form(self):
        return {key: values[-1] for key, values in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    operation: str  # SP-API operation id (quota key) or "" for unmetered endpoints
    handler: object


class Routes(list):
    """A module's routes: `@routes.add("GET", r"/orders/v0/orders/(?P<order_id>[^/]+)", "getOrder")`."""

    def add(self, method, pattern, operation=""):
        def register(handler):
            self.append(Route(method, re.compile(pattern + r"/?\Z"), operation, handler))
            return handler

        return register


def match(routes, request):
    """The route and its path parameters; 404/405 as ApiError when nothing fits."""
    path_matched = False
    for route in routes:
        found = route.pattern.match(request.path)
        if not found:
            continue
        path_matched = True
        if route.method == request.method:
            return route, found.groupdict()
    if path_matched:
        raise ApiError(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.path}")
    raise ApiError(404, "NotFound", f"No resource at {request.path}")
