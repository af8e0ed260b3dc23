from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integration_hub.exchanges.models import Exchange
from integration_hub.sync.scheduler import repeating

BATCH = 10_000  # delete in slices so a large backlog never holds one long lock


@repeating("exchanges.purge", every=24 * 3600)
def purge_old_exchanges(now=None):
    """Drop exchange-log rows older than HUB_EXCHANGE_RETENTION_DAYS; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXCHANGE_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Exchange.objects.filter(started_at__lt=cutoff).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += Exchange.objects.filter(pk__in=ids).delete()[0]
