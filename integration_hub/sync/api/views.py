from rest_framework import decorators, response, serializers, status, viewsets

from integration_hub.sync import engine
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

    @decorators.action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        if not request.user.has_perm("sync.change_workitem"):
            return response.Response({"detail": "admins only"}, status=status.HTTP_403_FORBIDDEN)
        item = self.get_object()
        if not engine.retry(item):
            return response.Response({"detail": f"{item} is not a dead letter"}, status=status.HTTP_409_CONFLICT)
        return response.Response(WorkItemSerializer(item).data, status=status.HTTP_202_ACCEPTED)


def register(router):
    router.register("work-items", WorkItemViewSet, basename="work-items")
