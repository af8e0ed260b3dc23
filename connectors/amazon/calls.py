"""How one SP-API operation is run: breaker, token, quota, a few quick tries, one exchange row per attempt."""

from __future__ import annotations

import logging
import random
import time

import httpx
from sp_api.base import ApiResponse, SellingApiException

from connectors.amazon.breaker import CircuitBreaker, CircuitOpenError
from connectors.amazon.quotas import QuotaWaitTooLong
from connectors.base import ConnectorError, ThrottledError
from connectors.choices import System
from integration_hub.exchanges.recorder import record

logger = logging.getLogger(__name__)

RATE_HEADER = "x-amzn-RateLimit-Limit"
# Permanent failures that are about one request's data, not the account's health.
DATA_ERRORS = {400, 404, 409, 413, 415, 422}


def _error_from_body(operation, response):
    """A ConnectorError from an error answer the library did not raise for (non-JSON, LWA's shape)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errors"):
        first = body["errors"][0]
        message, code = first.get("message", ""), first.get("code", "")
    elif isinstance(body, dict) and body.get("error"):  # LWA: {error, error_description}
        message, code = body.get("error_description") or body["error"], body["error"]
    else:
        kind = response.headers.get("content-type", "no content type")
        message, code = f"HTTP {status} with a non-JSON body ({kind})", ""
    if status == 429:
        return ThrottledError(f"{operation}: {message or 'throttled (429)'}")
    return ConnectorError.from_status(status, f"{operation}: {message}", code=code)


def _error_from_exception(operation, exc, status):
    if isinstance(exc, SellingApiException):
        message = getattr(exc, "message", "") or str(exc.error)
        details = (exc.error or [{}])[0].get("details") if isinstance(exc.error, list) else ""
        if details:
            message = f"{message} ({details})"
        if status == 429:
            return ThrottledError(f"{operation}: {message}")
        return ConnectorError.from_status(status, f"{operation}: {message}", code=getattr(exc, "amzn_code", ""))
    if isinstance(exc, httpx.TimeoutException):
        return ConnectorError(f"{operation}: no answer within the timeout ({type(exc).__name__})", permanent=False)
    return ConnectorError(f"{operation}: {type(exc).__name__}: {exc}", permanent=False)


def _for_log(result):
    """What of an answer goes to the exchange log (redacted there): JSON bodies, sizes of documents."""
    if isinstance(result, ApiResponse):
        return result.payload
    if isinstance(result, httpx.Response):
        if "json" in result.headers.get("content-type", ""):
            try:
                return result.json()
            except ValueError:
                pass
        return f"<{len(result.content)} bytes, {result.headers.get('content-type', 'no content type')}>"
    return result


class Caller:
    """Runs operations for one seller account; see `run`."""

    THROTTLE_TRIES = 4  # 429s in one call before ThrottledError (the work item then waits)
    TRANSIENT_TRIES = 3  # 5xx/timeouts in one call before the error goes to the work item
    BACKOFF_BASE = 0.5
    BACKOFF_CAP = 8.0

    def __init__(self, account, limiter, transport, sleep=time.sleep):
        self.account = account
        self.limiter = limiter
        self.transport = transport
        self.sleep = sleep
        self.tokens = None  # set by the connector: AccountTokenClient
        self._breakers = {}

    def breaker(self, api):
        if api not in self._breakers:
            self._breakers[api] = CircuitBreaker(self.account, api)
        return self._breakers[api]

    def backoff(self, tries):
        """Exponential with jitter: between half and all of base * 2^(tries-1), capped."""
        ceiling = min(self.BACKOFF_CAP, self.BACKOFF_BASE * 2 ** (tries - 1))
        return random.uniform(ceiling / 2, ceiling)

    def run(self, api, operation, send, *, correlation_id="", request=None, needs_token=True):
        """Call `send()` (a library call or a raw request over our transport) until it succeeds,
        fails for good, or runs out of quick tries; return its result or raise ConnectorError."""
        breaker = self.breaker(api)
        throttles = failures = attempt = 0
        refreshed = not needs_token
        last_error = None
        while True:
            if last_error is not None and not isinstance(last_error, ThrottledError):
                if last_error.permanent or failures >= self.TRANSIENT_TRIES:
                    self._unhealthy(last_error)
                    raise last_error
                self.sleep(self.backoff(failures))
            try:
                breaker.before_call()
                if needs_token:
                    self.tokens.get_auth()
            except CircuitOpenError:
                if failures:  # it opened on this call's own failures: the account is failing
                    self._unhealthy(last_error)
                raise
            except ConnectorError as token_error:  # the token exchange failed (and was logged)
                failures += 1
                last_error = token_error
                continue
            try:
                self.limiter.acquire(operation)
            except QuotaWaitTooLong as wait:
                raise ThrottledError(
                    f"{operation}: quota exhausted, next request allowed in {wait.wait:.0f}s", retry_after=wait.wait
                ) from None
            attempt += 1
            result, error = self._attempt(operation, send, correlation_id, request, attempt)
            last_error = error
            if error is None:
                breaker.succeeded()
                self.account.record_success()
                return result
            if isinstance(error, ThrottledError):
                self.limiter.throttled(operation)
                throttles += 1
                if throttles >= self.THROTTLE_TRIES:
                    raise error
                self.sleep(self.backoff(throttles))
            elif error.status in (401, 403) and not refreshed:
                refreshed = True  # an expired or revoked access token: fetch a new one, once
                self.tokens.invalidate()
                last_error = None
            elif error.permanent:
                breaker.succeeded()  # Amazon answered; the API itself is up
                if error.status in DATA_ERRORS:
                    raise error
            else:
                breaker.failed()
                failures += 1

    def _attempt(self, operation, send, correlation_id, request, attempt):
        """One request, one exchange row: (result, None) or (None, ConnectorError)."""
        with record(System.AMAZON, operation, account=self.account, correlation_id=correlation_id,
                    request=request, attempt=attempt) as row:
            self.transport.forget()
            error = None
            try:
                result = send()
            except SellingApiException as exc:
                raw = self.transport.last
                status = raw.status_code if raw is not None else exc.code
                error, body = _error_from_exception(operation, exc, status), exc.error
            except httpx.HTTPError as exc:
                error, body = _error_from_exception(operation, exc, None), None
            raw = self.transport.last
            quota = raw.headers.get(RATE_HEADER, "") if raw is not None else ""
            self.limiter.learn(operation, quota)
            if error is None and raw is not None and raw.status_code >= 400:
                error, body = _error_from_body(operation, raw), _for_log(raw)
            if error is not None:
                logger.info("%s for %s failed (attempt %s): %s", operation, correlation_id, attempt, error.message)
                row.failed(error.message, status=error.status or (raw.status_code if raw is not None else None),
                           response=body, permanent=error.permanent, quota=quota)
                return None, error
            row.done(status=raw.status_code if raw is not None else None, response=_for_log(result), quota=quota)
            return result, None

    def _unhealthy(self, error):
        self.account.record_failure(error.message)


def json_body(response, operation):
    """The JSON of a raw response, or a transient error when it is not JSON (a proxy's page)."""
    try:
        return response.json()
    except ValueError:
        raise ConnectorError(f"{operation}: expected JSON, got {len(response.content)} bytes",
                             permanent=False) from None
