"""The quota budget: per seller account and SP-API operation, the usage plan in force (learned from
`x-amzn-RateLimit-Limit`, else Amazon's documented default), the requests made and the 429s in the last
hour, the work waiting for that operation and how long it takes to drain at the quota.

Requests are counted from the exchange log (one row per attempt, each attempt spends a token); the
waiting work from the work items of the kind that calls the operation.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from connectors.amazon.quotas import USAGE_PLANS, RateLimiter
from integration_hub.exchanges.models import Exchange
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem

WINDOW = dt.timedelta(hours=1)
# The work item kind whose runs call each operation once per item: its queue is the backlog. (A stock
# push item sends any number of patches or a feed, so patchListingsItem has no backlog figure.)
BACKLOG = {"confirmShipment": WorkKind.CONFIRM_SHIPMENT, "getOrder": WorkKind.IMPORT_ORDER}
SHOWN = ("searchOrders", "getOrder", "confirmShipment", "patchListingsItem", "getListingsItem", "createFeed",
         "getFeed", "getReports", "getReportDocument")


@dataclass
class Budget:
    account: object
    operation: str
    rate: float  # requests per second in force
    burst: int
    learned: bool
    tokens_now: float
    used: int  # requests in the last hour
    throttled: int  # 429 answers in the last hour
    backlog: int | None  # work items waiting that call this operation (None: not tracked per item)

    @property
    def per_hour(self):
        return self.rate * 3600

    @property
    def use_percent(self):
        return 100.0 * self.used / self.per_hour if self.per_hour else 0.0

    @property
    def drain_seconds(self):
        """How long the backlog takes at the quota, past the tokens in the bucket now."""
        if not self.backlog:
            return 0.0
        return max(0.0, self.backlog - self.tokens_now) / self.rate


def budgets(accounts, now):
    accounts = list(accounts)
    exchanges = {(row["account_id"], row["operation"]): row for row in (
        Exchange.objects.filter(system="amazon", account__in=accounts, started_at__gte=now - WINDOW,
                                operation__in=SHOWN)
        .values("account_id", "operation")
        .annotate(used=Count("pk"), throttled=Count("pk", filter=Q(http_status=429))))}
    waiting = {(row["account_id"], row["kind"]): row["n"] for row in (
        WorkItem.objects.filter(account__in=accounts, kind__in=list(BACKLOG.values()),
                                state__in=[WorkState.PENDING, WorkState.RETRYING, WorkState.RUNNING])
        .values("account_id", "kind").annotate(n=Count("pk")))}
    rows = []
    for account in accounts:
        limiter = RateLimiter(account.pk)
        for operation in SHOWN:
            if operation not in USAGE_PLANS:
                continue
            rate, burst, learned = limiter.plan(operation)
            seen = exchanges.get((account.pk, operation), {})
            kind = BACKLOG.get(operation)
            rows.append(Budget(account=account, operation=operation, rate=rate, burst=burst, learned=learned,
                               tokens_now=limiter.tokens_left(operation), used=seen.get("used", 0),
                               throttled=seen.get("throttled", 0),
                               backlog=waiting.get((account.pk, kind), 0) if kind else None))
    return rows
