from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "integration_hub.sync"
    label = "sync"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Each app's jobs.py registers its work-item handlers and schedules.
        autodiscover_modules("jobs")
