from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


def _release_after_commit(sender, **kwargs):
    """A new or changed GL rule may release journals held for mapping: rebuild them once it is saved."""
    from integration_hub.finance.journal import release_held_journals

    transaction.on_commit(release_held_journals)


class FinanceConfig(AppConfig):
    name = "integration_hub.finance"
    label = "finance"

    def ready(self):
        post_save.connect(_release_after_commit, sender="mappings.GlAccountMap", dispatch_uid="finance.release_held")
