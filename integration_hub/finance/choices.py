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


class ReconCategory(models.TextChoices):
    """What a settlement's order or refund line, or a dispatch, matched."""

    MATCHED = "matched", "Matched"
    NOT_DISPATCHED = "not_dispatched", "Settled, never dispatched by the warehouse"
    AMOUNT_DIFFERS = "amount_differs", "Amount differs from the order's price"
    FULFILLED_BY_AMAZON = "fba", "Fulfilled by Amazon (nothing to dispatch)"
    NOT_SETTLED = "not_settled", "Dispatched, not yet settled (carried forward)"
    REFUND_MATCHED = "refund_matched", "Refund matched to its order"
    REFUND_UNMATCHED = "refund_unmatched", "Refund for an order the hub does not know"

    @classmethod
    def settled(cls):
        """Categories of lines that appear in a settlement (all but the carried-forward dispatches)."""
        return [cls.MATCHED, cls.NOT_DISPATCHED, cls.AMOUNT_DIFFERS, cls.FULFILLED_BY_AMAZON]


RECON_BADGES = {
    ReconCategory.MATCHED: "success",
    ReconCategory.NOT_DISPATCHED: "danger",
    ReconCategory.AMOUNT_DIFFERS: "warning",
    ReconCategory.FULFILLED_BY_AMAZON: "secondary",
    ReconCategory.NOT_SETTLED: "info",
    ReconCategory.REFUND_MATCHED: "success",
    ReconCategory.REFUND_UNMATCHED: "warning",
}
