"""Settlement uploads as jobs: the web request stores the file and queues its import; a worker on the
finance lane imports it, reporting progress (bytes of the file read, lines so far) that the upload's page
shows as a progress bar.

    upload = accept(account, uploaded_file, username)   # stored, queued; returns at once
    progress_of(upload)                                 # {"state", "percent", "lines", "message", ...}

The progress figures live in Redis (they change a thousand times a minute and mean nothing once the job
ends); the upload's state and outcome live in Postgres.
"""

import io
import json
import logging

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from connectors.shared_cache import shared_redis
from integration_hub.finance.importer import import_settlement
from integration_hub.finance.models import SettlementUpload
from integration_hub.finance.parser import SettlementFileError
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import submit

logger = logging.getLogger(__name__)

PROGRESS_TTL = 24 * 3600
PROGRESS_EVERY = 2000  # lines between progress reports


def _key(upload_id):
    return f"finance:upload-progress:{upload_id}"


def accept(account, uploaded, username):
    """Keep the uploaded file and queue its import; returns the SettlementUpload."""
    content = uploaded.read()
    with transaction.atomic():  # the file and its job together, or neither
        upload = SettlementUpload.objects.create(account=account, source_name=(uploaded.name or "upload")[:255],
                                                 content=content, size=len(content), uploaded_by=username)
        submit(WorkKind.IMPORT_SETTLEMENT, key=f"upload:{upload.pk}", account=account,
               payload={"upload_id": upload.pk})
    return upload


def run(upload_id):
    """The job: import the stored file, reporting progress; a file that cannot be read is rejected whole."""
    upload = SettlementUpload.objects.get(pk=upload_id)
    if upload.state in (SettlementUpload.State.DONE, SettlementUpload.State.FAILED):
        return upload.message  # a repeated run (a lost reply to the queue) changes nothing
    SettlementUpload.objects.filter(pk=upload.pk).update(state=SettlementUpload.State.RUNNING)
    raw = io.BytesIO(bytes(upload.content))
    redis = shared_redis()

    def report(lines):  # best effort: a progress bar must never cost the import
        share = raw.tell() / upload.size if upload.size else 1.0
        try:
            redis.set(_key(upload.pk), json.dumps({"read": raw.tell(), "lines": lines, "share": min(share, 1.0)}),
                      ex=PROGRESS_TTL)
        except RedisError as exc:
            logger.info("settlement upload %s: progress not reported (%s)", upload.pk, exc)

    try:
        result = import_settlement(upload.account, raw, source_name=upload.source_name, progress=report,
                                   progress_every=PROGRESS_EVERY)
    except SettlementFileError as exc:  # an answer for the person who uploaded it, not a dead letter
        message = f"{upload.source_name} was not imported, nothing of it was kept: {exc}"
        _finish(upload, SettlementUpload.State.FAILED, message)
        return message
    report(result.settlement.line_count)
    _finish(upload, SettlementUpload.State.DONE, result.message, settlement=result.settlement)
    return result.message


def give_up(item, error):
    """A dead letter of an upload's import (not a file it could not read: the database or the back office
    kept failing): the upload says so, instead of importing for ever."""
    upload_id = (item.payload or {}).get("upload_id")
    if upload_id is None:
        return
    upload = SettlementUpload.objects.filter(pk=upload_id).exclude(
        state__in=[SettlementUpload.State.DONE, SettlementUpload.State.FAILED]).first()
    if upload is not None:
        _finish(upload, SettlementUpload.State.FAILED, f"{upload.source_name}: the import gave up ({error[:300]}); "
                                                       "nothing of it was kept unless the settlement shows; upload it "
                                                       "again once the cause is fixed")


def _finish(upload, state, message, settlement=None):
    SettlementUpload.objects.filter(pk=upload.pk).update(state=state, message=message[:4000], settlement=settlement,
                                                         finished_at=timezone.now(), content=b"")
    logger.info("settlement upload %s: %s", upload.pk, message)


def progress_of(upload):
    """What the upload's page shows: state, percent of the file read, lines imported so far, outcome."""
    try:
        seen = json.loads(shared_redis().get(_key(upload.pk)) or "{}")
    except RedisError:  # the bar stands still; the state and outcome come from Postgres
        seen = {}
    done = upload.state == SettlementUpload.State.DONE
    percent = 100 if done else min(99, round(100 * seen.get("share", 0.0)))  # 100 once journal and all are in
    return {"state": upload.state, "state_label": upload.get_state_display(), "percent": percent,
            "lines": seen.get("lines", upload.settlement.line_count if upload.settlement else 0),
            "message": upload.message, "finished": upload.state in (SettlementUpload.State.DONE,
                                                                    SettlementUpload.State.FAILED),
            "settlement_url": f"/finance/{upload.settlement_id}/" if upload.settlement_id else ""}

