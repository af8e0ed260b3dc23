"""The API: one router; each app registers its viewsets from its own `api/views.py` via `register(router)`."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

API_MODULES = [
    "mappings.api.views",
    "connectors.api.views",
    "integration_hub.orders.api.views",
    "integration_hub.shipments.api.views",
    "integration_hub.inventory.api.views",
    "integration_hub.finance.api.views",
    "integration_hub.exchanges.api.views",
    "integration_hub.sync.api.views",
]

router = DefaultRouter()
for dotted in API_MODULES:
    try:
        module = import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            continue  # the app has no API yet
        raise
    module.register(router)

urlpatterns = router.urls
