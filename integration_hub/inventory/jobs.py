"""Stock out: measure the back office per velocity tier and push what changed to Amazon."""

from connectors.models import SellerAccount
from integration_hub.inventory import drift, services
from integration_hub.orders import connect
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import handler, submit
from integration_hub.sync.scheduler import repeating
from mappings.choices import VelocityTier

# Graduated refresh: fast movers risk overselling within minutes, slow movers barely change, and
# each run costs a back-office read plus Amazon quota (listings 5/s, feeds 5 per 5 minutes).
TIER_EVERY = {
    VelocityTier.FAST: 5 * 60,
    VelocityTier.MEDIUM: 30 * 60,
    VelocityTier.SLOW: 3 * 3600,
}
FOLLOW_FEEDS_EVERY = 120
DRIFT_CHECK_EVERY = 24 * 3600


@handler(WorkKind.PUSH_STOCK)
def push_stock(item):
    """Send one account's changed quantities of one tier to Amazon (key "<account pk>:<tier>")."""
    account_pk, tier = item.key.split(":", 1)
    return services.push(SellerAccount.objects.get(pk=account_pk), tier)


def refresh_tier(tier):
    """Measure the tier's stock for every active account, then queue its push."""

    def measure_and_queue(account):
        services.measure(account, tier)
        submit(WorkKind.PUSH_STOCK, services.push_key(account, tier), account=account, reset=True)

    connect.for_each(SellerAccount.objects.filter(active=True, back_office__active=True), measure_and_queue)


@repeating("stock.fast", every=TIER_EVERY[VelocityTier.FAST], queue="stock")
def refresh_fast_movers():
    """Fast movers: measured and pushed every few minutes."""
    refresh_tier(VelocityTier.FAST)


@repeating("stock.medium", every=TIER_EVERY[VelocityTier.MEDIUM], queue="stock")
def refresh_medium_movers():
    """Medium movers: every half hour."""
    refresh_tier(VelocityTier.MEDIUM)


@repeating("stock.slow", every=TIER_EVERY[VelocityTier.SLOW], queue="stock")
def refresh_slow_movers():
    """Slow movers: every few hours."""
    refresh_tier(VelocityTier.SLOW)


@repeating("stock.follow_feeds", every=FOLLOW_FEEDS_EVERY, queue="stock")
def follow_stock_feeds():
    """Record the outcome of submitted quantity feeds and of drift checks' listings reports."""
    services.follow_feeds()
    drift.follow_checks()


@repeating("stock.drift_check", every=DRIFT_CHECK_EVERY, queue="stock")
def check_stock_drift():
    """Daily: read Amazon's quantities back and re-push every SKU that differs from what the hub pushed."""
    return drift.start_checks(SellerAccount.objects.filter(active=True))
