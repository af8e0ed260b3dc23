"""django-rq's pages answer 404, not 500, for a queue, worker, job or page that does not exist."""

import django_rq
import pytest
from django.conf import settings
from rq import Worker

pytestmark = pytest.mark.django_db

GONE = [
    "/django-rq/workers/0/rq:worker:died-yesterday/",  # a worker that has stopped since the link was copied
    "/django-rq/workers/0/not-a-worker-key/",
    f"/django-rq/queues/{len(settings.RQ_QUEUES)}/",  # one past the last queue
    f"/django-rq/workers/{len(settings.RQ_QUEUES) + 5}/",
    "/django-rq/queues/0/expired-job-id/",
    "/django-rq/queues/0/expired-job-id/delete/",
    "/django-rq/queues/0/expired-job-id/requeue/",
    "/django-rq/queues/0/expired-job-id/enqueue/",
    "/django-rq/queues/0/finished/?page=abc",
    "/django-rq/queues/0/failed/?page=0",
    "/django-rq/queues/0/finished/?page=\u00b2",  # a digit to str.isdigit, not to int()
]


@pytest.mark.parametrize("url", GONE)
def test_what_does_not_exist_answers_404(client_as, admin_user, url):
    response = client_as(admin_user).get(url)
    assert response.status_code == 404


def test_what_exists_still_opens(client_as, admin_user):
    queue = django_rq.get_queue(list(settings.RQ_QUEUES)[0])
    job = queue.enqueue("integration_hub.sync.engine.sweep")
    worker = Worker([queue.name], connection=queue.connection)
    worker.register_birth()
    client = client_as(admin_user)
    try:
        for url in (f"/django-rq/queues/0/{job.id}/", f"/django-rq/workers/0/{worker.key}/",
                    "/django-rq/queues/0/finished/?page=1", f"/django-rq/queues/0/{job.id}/delete/"):
            assert client.get(url).status_code == 200, url
    finally:
        worker.register_death()
        job.delete()
