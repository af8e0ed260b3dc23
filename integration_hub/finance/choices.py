from django.db import models


class JournalState(models.TextChoices):
    NEEDS_MAPPING = "needs_mapping", "Needs mapping"
    READY = "ready", "Ready"
    POSTED = "posted", "Posted"


JOURNAL_BADGES = {
    JournalState.NEEDS_MAPPING: "warning",
    JournalState.READY: "info",
    JournalState.POSTED: "success",
}
