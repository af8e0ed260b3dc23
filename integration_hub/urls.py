from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("integration_hub.dashboard.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("orders/", include("integration_hub.orders.urls")),
    path("shipments/", include("integration_hub.shipments.urls")),
    path("stock/", include("integration_hub.inventory.urls")),
    path("finance/", include("integration_hub.finance.urls")),
    path("sync/", include("integration_hub.sync.urls")),
    path("exchanges/", include("integration_hub.exchanges.urls")),
    path("hooks/", include("connectors.urls")),
    path("django-rq/", include("django_rq.urls")),
    path("api/", include("integration_hub.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
