"""Times in the reader's own time zone: the browser names it (static/timezone.js sets the `hub_tz` cookie
from Intl.DateTimeFormat) and every page renders in it; an unknown or missing zone falls back to
TIME_ZONE. Stored times stay UTC."""

import zoneinfo
from functools import cache

from django.utils import timezone

COOKIE = "hub_tz"


@cache
def known_zones():
    return frozenset(zoneinfo.available_timezones())


def zone_of(request):
    name = request.COOKIES.get(COOKIE, "")
    return zoneinfo.ZoneInfo(name) if name in known_zones() else None


class TimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_of(request)
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
