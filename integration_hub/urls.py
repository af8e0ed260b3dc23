import django_rq.urls
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration_hub.audit.services import audited
from integration_hub.core.roles import admins_only
from integration_hub.dashboard import probes
from integration_hub.sync.rq_pages import found_or_404

# Sign in and out and change one's password; password reset only when e-mail is set up for it.
account_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("2fa/", include("integration_hub.accounts.urls")),
]
if settings.PASSWORD_RESET_ENABLED:
    account_urls += [
        path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
        path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
             name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ]

urlpatterns = [
    path("", include("integration_hub.dashboard.urls")),
    path("healthz/", probes.healthz, name="healthz"),
    path("metrics", probes.metrics, name="metrics"),
    path("accounts/", include(account_urls)),
    path("admin/", admin.site.urls),
    path("orders/", include("integration_hub.orders.urls")),
    path("shipments/", include("integration_hub.shipments.urls")),
    path("stock/", include("integration_hub.inventory.urls")),
    path("finance/", include("integration_hub.finance.urls")),
    path("sync/", include("integration_hub.sync.urls")),
    path("exchanges/", include("integration_hub.exchanges.urls")),
    path("alerts/", include("integration_hub.alerts.urls")),
    path("hooks/", include("connectors.urls")),
    # Emptying queues and deleting or requeueing jobs bypasses the work items' rules: admins only,
    # and every such action is in the audit trail. A queue, worker or job that is gone answers 404.
    path("django-rq/", include(admins_only(audited(found_or_404(django_rq.urls.urlpatterns))))),
    path("api/", include("integration_hub.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
]
