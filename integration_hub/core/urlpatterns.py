"""URL patterns of another app (django-rq's) served with the hub's own wrapping around each view."""

from django.urls import URLPattern


def wrap_views(urlpatterns, decorator):
    """The same URL patterns, each view passed through `decorator` (names and arguments unchanged)."""
    return [URLPattern(p.pattern, decorator(p.callback), p.default_args, p.name) for p in urlpatterns]
