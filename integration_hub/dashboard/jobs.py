from connectors.models import SellerAccount
from integration_hub.dashboard import amazon_health
from integration_hub.sync.scheduler import repeating

AMAZON_HEALTH_EVERY = 300  # follows a report under way; asks for a new one every amazon_health.REFRESH


@repeating("health.amazon_report", every=AMAZON_HEALTH_EVERY)
def fetch_amazon_health():
    """Amazon's own account-health figures (the seller performance report), for the health page."""
    return amazon_health.refresh(SellerAccount.objects.filter(active=True))
