from django.urls import path

from integration_hub.dashboard import exceptions, onboarding, views

app_name = "dashboard"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="home"),
    path("health/", views.HealthView.as_view(), name="health"),
    path("quota/", views.QuotaView.as_view(), name="quota"),
    path("onboarding/", onboarding.OnboardingView.as_view(), name="onboarding"),
    path("exceptions/", exceptions.ExceptionsView.as_view(), name="exceptions"),
    path("exceptions/link-sku/", exceptions.LinkSkuView.as_view(), name="link-sku"),
    path("exceptions/map-ship-level/", exceptions.MapShipLevelView.as_view(), name="map-ship-level"),
    path("exceptions/map-carrier/", exceptions.MapCarrierView.as_view(), name="map-carrier"),
]
