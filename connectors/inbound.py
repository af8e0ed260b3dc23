"""Guards for inbound webhooks, in the order a delivery meets them: a rate limit per sending address
(before anything is looked up, so guessing path tokens is slow too), JSON only, a size limit read
before the body, and an HMAC signature where the sender supports one (per connection).

A connection with a `webhook_signing_key` requires the header named by its option
`webhook_signature_header` (default `X-Hub-Signature-256`) to be `sha256=<hex HMAC-SHA256 of the raw
body under the key>`; connections without a key (Clarus signs nothing) rely on the path token.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.http import JsonResponse

from connectors.shared_cache import shared_redis
from integration_hub.core.clientip import client_ip

DEFAULT_SIGNATURE_HEADER = "X-Hub-Signature-256"


def refuse(status, message, **headers):
    response = JsonResponse({"result": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def rate_limited(request, source):
    """A 429 response if this address sent more than HUB_WEBHOOK_RATE_PER_MINUTE deliveries to
    `source` (a webhook kind) this minute, else None. One counter per address and minute in Redis."""
    window = int(time.time() // 60)
    key = f"hub:webhook-rate:{source}:{client_ip(request)}:{window}"
    redis = shared_redis()
    count = redis.incr(key)
    if count == 1:
        redis.expire(key, 120)
    if count > settings.WEBHOOK_RATE_PER_MINUTE:
        return refuse(429, "too many deliveries from this address; slow down",
                      Retry_After=str(60 - int(time.time()) % 60))
    return None


def body_refused(request):
    """A 415 or 413 response for a delivery that is not JSON or is too large, else None (the body is
    then read). The declared length is checked before reading, the real one after."""
    content_type = request.content_type or ""
    if content_type != "application/json":
        return refuse(415, f"Content-Type must be application/json, not {content_type or 'missing'!r}")
    limit = settings.WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return refuse(400, "Content-Length is not a number")
    if declared > limit or len(request.body) > limit:
        return refuse(413, f"body larger than {limit} bytes")
    return None


def signature_refused(request, connection):
    """A 401 response if the connection signs its webhooks and this body's signature is missing or wrong."""
    key = connection.webhook_signing_key
    if not key:
        return None
    header = connection.options.get("webhook_signature_header") or DEFAULT_SIGNATURE_HEADER
    given = request.headers.get(header, "")
    expected = "sha256=" + hmac.new(key.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return refuse(401, f"missing or wrong {header} signature")
    return None


def sign(key, body):
    """The signature header value a sender puts on `body` (the emulator and tests use it)."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
