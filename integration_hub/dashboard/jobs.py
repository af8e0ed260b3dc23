from connectors.models import SellerAccount
from integration_hub.dashboard import amazon_health
from integration_hub.sync.scheduler import repeating

AMAZON_HEALTH_EVERY = 300  # follows a report under way; asks for a new one every amazon_health.REFRESH


@repeating("health.amazon_report", every=AMAZON_HEALTH_EVERY)
def fetch_amazon_health():
    """Amazon's own account-health figures (the seller performance report), for the health page."""
    return amazon_health.refresh(SellerAccount.objects.filter(active=True))


@repeating("health.forecast", every=60)
def forecast_health():
    """Every minute: what LSR/VTR become if the orders due in the next hours miss their ship-by."""
    from integration_hub.dashboard import forecast

    return forecast.refresh(list(SellerAccount.objects.filter(active=True)))


@repeating("mappings.onboarding", every=60)
def follow_catalogue_reviews():
    """Read the listings reports ops asked for to onboard a catalogue, once Amazon has made them."""
    from integration_hub.dashboard import onboarding

    return onboarding.follow()
