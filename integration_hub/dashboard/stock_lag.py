"""Stock sync lag per seller account and velocity tier: how long ago Amazon last received the tier's
quantities as the warehouse measured them, against how often the tier is meant to go.

A tier's push (PUSH_STOCK, one work item per account and tier) ends when Amazon has been sent every
changed quantity; its done_at is when the warehouse's reading last reached Amazon. A tier is late
when that is older than twice its interval (one run missed), or when it has never been pushed.

    rows(accounts, now)   # [TierLag], one per account and tier that has active SKU links
"""

import dataclasses
import datetime as dt

from django.db.models import Count, OuterRef, Subquery

from integration_hub.inventory.jobs import TIER_EVERY
from integration_hub.inventory.models import StockPush
from integration_hub.inventory.services import push_key
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from mappings.choices import VelocityTier
from mappings.models import SkuLink


@dataclasses.dataclass
class TierLag:
    account: object
    tier: str
    skus: int
    every: dt.timedelta
    pushed_at: dt.datetime | None  # when the tier's last push ended (None: never)
    lag: dt.timedelta | None
    state: str  # the push's state now: pending, running, retrying, done, dead
    rejected: int  # SKUs whose last update Amazon rejected

    @property
    def late(self):
        return self.lag is None or self.lag > 2 * self.every or self.state == WorkState.DEAD

    @property
    def every_words(self):
        minutes = int(self.every.total_seconds() // 60)
        return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"

    @property
    def tier_label(self):
        return VelocityTier(self.tier).label


def rows(accounts, now):
    """Three queries whatever the number of accounts and SKUs."""
    accounts = {account.pk: account for account in accounts}
    skus = {(row["account"], row["velocity_tier"]): row["n"] for row in
            SkuLink.objects.filter(account__in=accounts, active=True)
            .values("account", "velocity_tier").annotate(n=Count("pk"))}
    pushes = {item["key"]: item for item in WorkItem.objects.filter(
        kind=WorkKind.PUSH_STOCK, account__in=accounts).values("key", "state", "done_at")}
    tier_of = SkuLink.objects.filter(account=OuterRef("account"), seller_sku=OuterRef("sku"), active=True)
    rejected = {(row["account"], row["tier"]): row["n"] for row in
                StockPush.objects.filter(account__in=accounts).exclude(last_error="")
                .annotate(tier=Subquery(tier_of.values("velocity_tier")[:1]))
                .values("account", "tier").annotate(n=Count("pk"))}
    found = []
    for pk, account in sorted(accounts.items(), key=lambda pair: pair[1].name):
        for tier in VelocityTier.values:
            if not skus.get((pk, tier)):
                continue
            push = pushes.get(push_key(account, tier), {})
            pushed_at = push.get("done_at")
            found.append(TierLag(account=account, tier=tier, skus=skus[pk, tier],
                                 every=dt.timedelta(seconds=TIER_EVERY[tier]), pushed_at=pushed_at,
                                 lag=now - pushed_at if pushed_at else None, state=push.get("state", ""),
                                 rejected=rejected.get((pk, tier), 0)))
    return found
