"""Recording and reading the audit trail. Views record the actions people take (services do the
work and do not know who asked); every object page shows its trail with `trail_for`."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from integration_hub.audit.models import Action, AuditEvent
from integration_hub.core.clientip import client_ip


def _source(request):
    path = request.path
    for prefix, source in (("/api/", "api"), ("/admin/", "admin"), ("/django-rq/", "queues")):
        if path.startswith(prefix):
            return source
    return "web"


def _by(request, action, detail):
    """The fields every event of one request shares: who, from where, what."""
    user = request.user if request.user.is_authenticated else None
    return {"user": user, "username": user.get_username() if user else "anonymous", "action": action,
            "detail": detail, "source": _source(request), "ip": client_ip(request)}


def _about(obj):
    if obj is None:
        return {"content_type": None, "object_id": "", "object_repr": ""}
    return {"content_type": ContentType.objects.get_for_model(obj), "object_id": str(obj.pk),
            "object_repr": str(obj)[:200]}


def record(request, action, obj=None, detail=""):
    """Record that the request's user took `action` on `obj` (any model instance, or None)."""
    return AuditEvent.objects.create(**_by(request, action, detail), **_about(obj))


def record_many(request, action, objects, detail=""):
    """One event per object, written in one statement (bulk actions)."""
    base = _by(request, action, detail)
    return AuditEvent.objects.bulk_create([AuditEvent(**base, **_about(obj)) for obj in objects])


def trail_for(*objects, limit=50):
    """The latest events on any of these objects, newest first."""
    match = Q(pk__in=[])
    for obj in objects:
        match |= Q(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
    return AuditEvent.objects.filter(match).select_related("content_type")[:limit]


def audited(urlpatterns):
    """The same URL patterns with every POST recorded (django-rq's dashboard: emptying a queue,
    deleting or requeueing jobs), with what was asked (the action and job ids, never a value)."""
    from functools import wraps

    from integration_hub.core.urlpatterns import wrap_views

    def wrap(view):
        @wraps(view)
        def audited_view(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if request.method == "POST" and request.user.is_authenticated and response.status_code < 400:
                asked = [f"{name}={','.join(request.POST.getlist(name))[:500]}" for name in sorted(request.POST)
                         if name != "csrfmiddlewaretoken"]
                record(request, Action.QUEUE, detail=" ".join([request.path, *asked])[:2000])
            return response

        return audited_view

    return wrap_views(urlpatterns, wrap)
