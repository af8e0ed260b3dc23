"""The address a request came from, for login throttling and webhook rate limits."""

from django.conf import settings


def client_ip(request):
    """REMOTE_ADDR, or behind the hub's own proxy (HUB_BEHIND_PROXY) the address that proxy appended
    last to X-Forwarded-For: earlier entries are whatever the client chose to send."""
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
