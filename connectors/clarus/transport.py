"""HTTP to one Clarus tenant: connection options, OAuth token, REST writes and paged GraphQL reads.

Every attempt is one exchange-log row (`integration_hub.exchanges.recorder.record`). Reads retry
transient failures a few times; writes never do, because a write whose reply was lost may have
been applied: the caller re-checks by reference, and its work item retries the whole operation.
A 401 drops the cached token and repeats the request once with a new one (nothing was applied).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
import typing

import requests

from connectors.base import ConnectorError, ThrottledError, retry_after_seconds
from connectors.choices import System
from connectors.shared_cache import shared_token
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
GRAPHQL_PATH = "/graphql"
# Tokens are shared by every worker process (Redis, encrypted; see shared_token): a fresh token per
# job would open a new API session each time, and Clarus ends sessions it considers superseded.


@dataclasses.dataclass(frozen=True)
class Options:
    """BackOfficeConnection.options for Clarus; see the client module docstring for their meaning."""

    subdomain: str
    account_id: int
    warehouse_id: int
    timeout: float = 30.0
    retries: int = 2
    retry_backoff: float = 1.0
    page_size: int = 100
    api_prefix: str = "/api"
    ship_method_field: str = "name"
    cancelled_status: str = "CANCELLED"
    cancel_path: str = "goods_outs/{id}/cancel"
    tracking_on: str = "package"
    dispatch_page_limit: int = 500
    dispatch_lookback_days: int = 7

    CHOICES: typing.ClassVar = {"ship_method_field": ("name", "code"), "tracking_on": ("package", "shipment"),
               "api_prefix": ("/api", "/api/v1")}

    @classmethod
    def from_connection(cls, connection):
        raw = connection.options or {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        problems = [f"unknown option {key!r}" for key in sorted(set(raw) - set(fields))]
        problems += [f"missing option {name!r}" for name, f in fields.items()
                     if f.default is dataclasses.MISSING and name not in raw]
        values = {}
        for name, value in raw.items():
            if name not in fields:
                continue
            kind = {"str": str, "int": int, "float": float}[fields[name].type]
            try:
                values[name] = kind(value)
            except (TypeError, ValueError):
                problems.append(f"option {name!r} must be {kind.__name__}, got {value!r}")
                continue
            if name in cls.CHOICES and values[name] not in cls.CHOICES[name]:
                problems.append(f"option {name!r} must be one of {cls.CHOICES[name]}, got {value!r}")
        if problems:
            raise ConnectorError(f"Clarus connection {connection.name!r}: " + "; ".join(problems), permanent=True)
        return cls(**values)


def error_text(payload):
    """The back office's own words from a JSON:API, OAuth or GraphQL error body."""
    if isinstance(payload, dict):
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for error in errors:
                if isinstance(error, dict):
                    text = error.get("detail") or error.get("title") or error.get("message") or ""
                    code = error.get("code")
                    parts.append(f"{text} (code {code})" if code else text)
            return "; ".join(parts)
        if payload.get("error"):
            return str(payload["error"])
    return str(payload)[:300]


class ClarusTransport:
    """One tenant's API, as the connection row describes it."""

    def __init__(self, connection):
        self.connection = connection
        self.options = Options.from_connection(connection)
        self.base = connection.endpoint.rstrip("/")
        self.session = requests.Session()
        # The environment's proxy and CA bundle, read once: left to requests, every call reads all the
        # environment variables again (a millisecond per call, measured with bench_pipeline).
        self.session.proxies = requests.utils.get_environ_proxies(self.base)
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        secret_hash = hashlib.sha256((connection.secret or "").encode()).hexdigest()
        identity = "|".join((self.base, self.options.subdomain, connection.username, secret_hash))
        self._token_key = "clarus:token:" + hashlib.sha256(identity.encode()).hexdigest()

    # ---- public -------------------------------------------------------------------------

    def rest(self, method, path, operation, *, correlation_id, body=None):
        """One REST write under /api; returns the decoded JSON body."""
        url = f"{self.base}{self.options.api_prefix}/{path.lstrip('/')}"
        return self._authorised(method, url, operation, correlation_id, body, attempt=1, graphql=False)

    def graphql(self, operation, query, variables, *, correlation_id=""):
        """One GraphQL read, retried on transient failures; returns its `data`."""
        body = {"query": query, "variables": variables}
        for attempt in range(1, self.options.retries + 2):
            try:
                payload = self._authorised("POST", self.base + GRAPHQL_PATH, operation, correlation_id, body,
                                           attempt=attempt, graphql=True)
            except ConnectorError as exc:
                if exc.permanent or attempt > self.options.retries:
                    raise
                logger.info("Clarus %s attempt %s failed (%s); retrying", operation, attempt, exc.message)
                time.sleep(self.options.retry_backoff * attempt)
                continue
            return payload["data"]

    def nodes(self, operation, field, query, variables, *, correlation_id=""):
        """Every node of a relay connection, following pageInfo.endCursor with first/after."""
        after = None
        while True:
            page = self.graphql(operation, query, {**variables, "first": self.options.page_size, "after": after},
                                correlation_id=correlation_id)[field]
            for edge in page["edges"]:
                yield edge["node"]
            info = page["pageInfo"]
            if not info["hasNextPage"]:
                return
            if not info.get("endCursor") or info["endCursor"] == after:
                raise ConnectorError(f"Clarus {operation}: hasNextPage without a new endCursor", permanent=True)
            after = info["endCursor"]

    # ---- internals ----------------------------------------------------------------------

    def _authorised(self, method, url, operation, correlation_id, body, attempt, graphql):
        token = None
        for fresh_token in (False, True):
            token = self._token(correlation_id, rejected=token)
            headers = {"Authorization": f"Bearer {token}", "X-Clarus-Subdomain": self.options.subdomain,
                       "Accept": "application/vnd.api+json", "Content-Type": "application/vnd.api+json"}
            try:
                return self._send(method, url, operation, correlation_id, attempt, graphql=graphql, json=body,
                                  headers=headers)
            except ConnectorError as exc:
                if exc.status != 401 or fresh_token:
                    raise
                logger.info("Clarus %s: token rejected, fetching a new one", operation)

    def _token(self, correlation_id, rejected=None):
        """The tenant's token, shared by every process; one that Clarus has just refused is replaced."""

        def login():
            form = {"grant_type": "client_credentials", "client_id": self.connection.username,
                    "client_secret": self.connection.secret}
            payload = self._send("POST", self.base + TOKEN_PATH, "oauth_token", correlation_id, 1, data=form,
                                 headers={"X-Clarus-Subdomain": self.options.subdomain})
            token = payload.get("access_token") if isinstance(payload, dict) else None
            if not token:
                raise ConnectorError("Clarus oauth_token: the reply has no access_token", permanent=True)
            # Renew a minute early so a token never expires between fetch and use.
            lifetime = max(0, int(payload.get("expires_in") or 3600) - 60)
            return {"access_token": token, "expires_at": time.time() + lifetime}

        return shared_token(self._token_key, login, rejected=rejected)["access_token"]

    def _send(self, method, url, operation, correlation_id, attempt, graphql=False, **kwargs):
        request_body = kwargs.get("json") or kwargs.get("data")
        with record(System.CLARUS, operation, connection=self.connection, correlation_id=correlation_id,
                    request=request_body, attempt=attempt) as call:
            try:
                response = self.session.request(method, url, timeout=self.options.timeout, **kwargs)
            except requests.Timeout:
                self._failed(ConnectorError(f"Clarus {operation}: no reply within {self.options.timeout}s",
                                            permanent=False), operation)
            except requests.RequestException as exc:
                self._failed(ConnectorError(f"Clarus {operation}: {type(exc).__name__}: {exc}", permanent=False),
                             operation)
            payload = _decode(response)
            error = None
            if response.status_code == 429:
                error = ThrottledError(f"Clarus {operation}: throttled (429)",
                                       retry_after=retry_after_seconds(response.headers.get("Retry-After")))
            elif response.status_code >= 400:
                error = ConnectorError.from_status(
                    response.status_code, f"Clarus {operation} answered {response.status_code}: {error_text(payload)}",
                    code=_first_code(payload))
            elif graphql and (not isinstance(payload, dict) or payload.get("errors") or "data" not in payload):
                error = ConnectorError(f"Clarus {operation}: GraphQL error: {error_text(payload)}", permanent=True,
                                       status=response.status_code)
            if error:
                call.failed(error.message, status=response.status_code, response=payload, permanent=error.permanent)
                self._failed(error, operation)
            call.done(status=response.status_code, response=payload)
        self.connection.record_success()
        return payload

    def _failed(self, error, operation):
        # Health tracks reachability and credentials: a rejected order says nothing about the link,
        # and a 401 on an API call is a routine token renewal unless the token endpoint refuses too.
        if not error.permanent or error.status == 403 or (error.status == 401 and operation == "oauth_token"):
            self.connection.record_failure(error.message)
        raise error


def _decode(response):
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _first_code(payload):
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or "")
    return ""
