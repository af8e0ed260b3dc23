"""django-rq's pages as the hub serves them: a link to something that is gone (a worker that has died,
a job Redis no longer holds, a queue number or page that does not exist) answers 404 like every other
page of the hub. django-rq asserts, or lets the lookup's exception escape, and so answers 500 for
each of those: an admin following yesterday's link would see a server error and page whoever is on call.
"""

import functools

from django.http import Http404
from django_rq.queues import get_queue_by_index
from django_rq.settings import QUEUES_LIST
from rq import Worker
from rq.exceptions import NoSuchJobError

from integration_hub.core.urlpatterns import wrap_views


def _found_or_404(view):
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        for name in ("queue_index", "scheduler_index"):
            if name in kwargs and int(kwargs[name]) >= len(QUEUES_LIST):
                raise Http404(f"There is no queue number {kwargs[name]}.")
        page = request.GET.get("page", "1")
        if not (page.isascii() and page.isdigit()) or int(page) < 1:
            raise Http404(f"There is no page {page!r}.")
        if "key" in kwargs:
            key = kwargs["key"]
            connection = get_queue_by_index(kwargs["queue_index"]).connection
            if not key.startswith(Worker.redis_worker_namespace_prefix) or (
                    Worker.find_by_key(key, connection=connection) is None):
                raise Http404("That worker is no longer registered: it has stopped or died.")
        try:
            return view(request, *args, **kwargs)
        except NoSuchJobError:
            if "job_id" not in kwargs:  # a bulk action (see found_or_404)
                raise
            raise Http404("Redis no longer holds that job: it has finished and expired, or was deleted.") from None

    return checked


def found_or_404(urlpatterns):
    """The same URL patterns, each answering 404 for a queue, worker, job or page that does not exist.
    Only a page of one job maps a job Redis lacks to 404: the bulk actions act on several, and a 404
    after some were deleted would hide those from the audit trail (it records answers below 400)."""
    return wrap_views(urlpatterns, _found_or_404)
