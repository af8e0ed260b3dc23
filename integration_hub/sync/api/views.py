from drf_spectacular.utils import extend_schema
from rest_framework import decorators, response, serializers, status, viewsets

from integration_hub.audit import services as audit
from integration_hub.audit.models import Action
from integration_hub.sync import engine
from integration_hub.sync.choices import RETRY_PERMISSION
from integration_hub.sync.filters import WorkItemFilter
from integration_hub.sync.models import WorkItem


class WorkItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkItem
        fields = "__all__"


class WorkItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Work items (the outbox); POST retry/ re-queues a dead letter."""

    queryset = WorkItem.objects.all()
    serializer_class = WorkItemSerializer
    filterset_class = WorkItemFilter

    @extend_schema(request=None)
    @decorators.action(detail=True, methods=["post"])
    def retry(self, request, pk=None, format=None):  # noqa: A002 - DRF passes the format suffix by this name
        item = self.get_object()
        if not request.user.has_perm(RETRY_PERMISSION[item.kind]):  # as on the Work items page
            return response.Response({"detail": "your role may not retry this kind of work"},
                                     status=status.HTTP_403_FORBIDDEN)
        if not engine.retry(item):
            return response.Response({"detail": f"{item} is not a dead letter"}, status=status.HTTP_409_CONFLICT)
        audit.record(request, Action.WORK_RETRY, item, detail="retried")
        return response.Response(WorkItemSerializer(item).data, status=status.HTTP_202_ACCEPTED)


def register(router):
    router.register("work-items", WorkItemViewSet, basename="work-items")
