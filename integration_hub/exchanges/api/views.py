from rest_framework import serializers, viewsets

from integration_hub.exchanges.filters import ExchangeFilter
from integration_hub.exchanges.models import Exchange


class ExchangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exchange
        fields = "__all__"


class ExchangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The exchange log: one row per call to or from an outside system (bodies already redacted)."""

    queryset = Exchange.objects.all()
    serializer_class = ExchangeSerializer
    filterset_class = ExchangeFilter


def register(router):
    router.register("exchanges", ExchangeViewSet, basename="exchanges")
