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

from django.utils import timezone

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
    upload = SettlementUpload.objects.create(account=account, source_name=(uploaded.name or "upload")[:255],
                                             content=content, size=len(content), uploaded_by=username)
    submit(WorkKind.IMPORT_SETTLEMENT, key=f"upload:{upload.pk}", account=account, payload={"upload_id": upload.pk})
    return upload


def run(upload_id):
    """The job: import the stored file, reporting progress; a file that cannot be read is rejected whole."""
    upload = SettlementUpload.objects.get(pk=upload_id)
    if upload.state in (SettlementUpload.State.DONE, SettlementUpload.State.FAILED):
        return upload.message  # a repeated run (a lost reply to the queue) changes nothing
    SettlementUpload.objects.filter(pk=upload.pk).update(state=SettlementUpload.State.RUNNING)
    raw = io.BytesIO(bytes(upload.content))
    redis = shared_redis()

    def report(lines):
        share = raw.tell() / upload.size if upload.size else 1.0
        redis.set(_key(upload.pk), json.dumps({"read": raw.tell(), "lines": lines, "share": min(share, 1.0)}),
                  ex=PROGRESS_TTL)

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


def _finish(upload, state, message, settlement=None):
    SettlementUpload.objects.filter(pk=upload.pk).update(state=state, message=message[:4000], settlement=settlement,
                                                         finished_at=timezone.now(), content=b"")
    logger.info("settlement upload %s: %s", upload.pk, message)


def progress_of(upload):
    """What the upload's page shows: state, percent of the file read, lines imported so far, outcome."""
    seen = json.loads(shared_redis().get(_key(upload.pk)) or "{}")
    done = upload.state == SettlementUpload.State.DONE
    percent = 100 if done else min(99, round(100 * seen.get("share", 0.0)))  # 100 once journal and all are in
    return {"state": upload.state, "state_label": upload.get_state_display(), "percent": percent,
            "lines": seen.get("lines", upload.settlement.line_count if upload.settlement else 0),
            "message": upload.message, "finished": upload.state in (SettlementUpload.State.DONE,
                                                                    SettlementUpload.State.FAILED),
            "settlement_url": f"/finance/{upload.settlement_id}/" if upload.settlement_id else ""}

