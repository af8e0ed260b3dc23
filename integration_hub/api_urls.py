"""The API: one router, each app registers its viewsets in its own api/ package."""

from rest_framework.routers import DefaultRouter

from mappings.api.views import register as register_mappings

router = DefaultRouter()
register_mappings(router)

urlpatterns = router.urls
