import django_rq.urls
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration_hub.core.roles import admins_only

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
    # Emptying queues and deleting or requeueing jobs bypasses the work items' rules: admins only.
    path("django-rq/", include(admins_only(django_rq.urls.urlpatterns))),
    path("api/", include("integration_hub.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
