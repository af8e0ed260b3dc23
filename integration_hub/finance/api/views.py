from rest_framework import viewsets

from integration_hub.finance.api.serializers import (
    JournalSerializer,
    ReconciliationLineSerializer,
    SettlementSerializer,
)
from integration_hub.finance.filters import JournalFilter, ReconciliationLineFilter, SettlementFilter
from integration_hub.finance.models import Journal, ReconciliationLine, Settlement


class SettlementViewSet(viewsets.ReadOnlyModelViewSet):
    """Imported settlements with their unmapped combinations and reconciliation summary."""

    queryset = Settlement.objects.prefetch_related("journals", "unmapped")
    serializer_class = SettlementSerializer
    filterset_class = SettlementFilter


class JournalViewSet(viewsets.ReadOnlyModelViewSet):
    """Journals (one per settlement and month) with their lines."""

    queryset = Journal.objects.select_related("settlement").prefetch_related("lines")
    serializer_class = JournalSerializer
    filterset_class = JournalFilter


class ReconciliationLineViewSet(viewsets.ReadOnlyModelViewSet):
    """Reconciliation lines; filter by settlement and category."""

    queryset = ReconciliationLine.objects.all()
    serializer_class = ReconciliationLineSerializer
    filterset_class = ReconciliationLineFilter


def register(router):
    router.register("settlements", SettlementViewSet, basename="settlements")
    router.register("journals", JournalViewSet, basename="journals")
    router.register("reconciliations", ReconciliationLineViewSet, basename="reconciliations")
