from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    label = "mappings"
    verbose_name = "Mapping tables"
