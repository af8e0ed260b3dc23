"""Settlement uploads run as jobs: the file is kept in Postgres and imported by a worker on the finance lane
(a real RQ worker here), which reports its progress as it reads; the upload's page and its JSON show it."""

import json

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rq import SimpleWorker

from connectors.shared_cache import shared_redis
from integration_hub.finance import uploads
from integration_hub.finance.models import Settlement, SettlementUpload
from tests.finance.builders import order_lines, settlement_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_large_upload_is_imported_by_a_worker_reporting_its_progress(gl_map, account, client_as, finance_user,
                                                                        monkeypatch):
    rows = [row for n in range(1500) for row in order_lines(f"202-{n:07d}-0000001", "MUG", "10.00")]
    text = settlement_text(rows)
    client = client_as(finance_user)
    response = client.post(reverse("finance:upload"), {"file": SimpleUploadedFile("big.txt", text.encode())})
    upload = SettlementUpload.objects.get()
    assert response.url == reverse("finance:upload-detail", args=[upload.pk])
    assert not Settlement.objects.exists(), "the web request only stores the file and queues its import"
    waiting = client.get(reverse("finance:upload-progress", args=[upload.pk])).json()
    assert (waiting["state"], waiting["percent"], waiting["finished"]) == ("queued", 0, False)

    reports = []
    original = uploads.import_settlement

    def watched(*args, progress=None, **kwargs):
        def spy(lines):  # what the progress poll would read now (from Redis: the import's COPY holds the DB)
            progress(lines)
            reports.append(json.loads(shared_redis().get(uploads._key(upload.pk))))
        return original(*args, progress=spy, **kwargs)

    monkeypatch.setattr(uploads, "import_settlement", watched)
    monkeypatch.setattr(uploads, "PROGRESS_EVERY", 1000)
    django_rq.get_worker("finance", worker_class=SimpleWorker).work(burst=True, with_scheduler=False)

    assert [r["lines"] for r in reports] == list(range(1000, len(rows) + 1, 1000))
    shares = [r["share"] for r in reports]
    assert shares == sorted(shares) and 0 < shares[0] < shares[-2] < shares[-1] <= 1, shares
    done = client.get(reverse("finance:upload-progress", args=[upload.pk])).json()
    settlement = Settlement.objects.get()
    assert done["state"] == "done" and done["percent"] == 100 and done["finished"]
    assert done["lines"] == settlement.line_count == len(rows) >= 3000
    assert done["settlement_url"] == reverse("finance:settlement", args=[settlement.pk])
    page = client.get(reverse("finance:upload-detail", args=[upload.pk])).content.decode()
    assert f"Imported settlement 12345678901 ({len(rows)} lines" in page and 'value="100"' in page


def test_an_import_that_keeps_failing_ends_the_upload_instead_of_running_for_ever(gl_map, account, client_as,
                                                                                 finance_user, monkeypatch):
    from integration_hub.sync import engine
    from integration_hub.sync.models import WorkItem

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(uploads, "import_settlement", broken)
    client = client_as(finance_user)
    client.post(reverse("finance:upload"), {"file": SimpleUploadedFile("june.txt", b"x")})
    item = WorkItem.objects.get()
    WorkItem.objects.filter(pk=item.pk).update(max_attempts=1)
    engine.run_work_item(item.pk)
    upload = SettlementUpload.objects.get()
    assert WorkItem.objects.get().state == "dead"
    assert upload.state == "failed" and "the import gave up" in upload.message and upload.content == b""
    assert client.get(reverse("finance:upload-progress", args=[upload.pk])).json()["finished"]


def test_a_redis_that_fails_costs_the_progress_bar_not_the_import(gl_map, account, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    class Gone:
        def set(self, *args, **kwargs):
            raise RedisDown("redis is down")

        def get(self, *args, **kwargs):
            raise RedisDown("redis is down")

    rows = [row for n in range(600) for row in order_lines(f"202-{n:07d}-0000001", "MUG", "10.00")]
    upload = uploads.accept(account, SimpleUploadedFile("big.txt", settlement_text(rows).encode()), "finance")
    monkeypatch.setattr(uploads, "shared_redis", lambda: Gone())
    monkeypatch.setattr(uploads, "PROGRESS_EVERY", 100)
    uploads.run(upload.pk)
    upload.refresh_from_db()
    assert upload.state == "done" and Settlement.objects.get().line_count == len(rows)
    assert uploads.progress_of(upload)["percent"] == 100
