"""What the jobs page shows, per lane: the work waiting in Postgres (due, waiting to retry, dead), the RQ
prompts queued in Redis, the workers listening and what each is doing, the work running now and since
when; and the long jobs (settlement uploads) with their progress."""

from dataclasses import dataclass, field

import django_rq
from django.db.models import Count
from rq import Worker

from integration_hub.sync.choices import LANES, WorkState
from integration_hub.sync.engine import queue_for
from integration_hub.sync.models import WorkItem


@dataclass
class Lane:
    name: str
    states: dict  # WorkState -> count
    prompts: int | None  # RQ jobs queued (None: Redis did not answer)
    workers: list = field(default_factory=list)  # (name, state, current job description)
    running: list = field(default_factory=list)  # WorkItem rows running now

    @property
    def waiting(self):
        return self.states.get(WorkState.PENDING, 0) + self.states.get(WorkState.RETRYING, 0)


def lanes():
    counts = {}
    kind_lane = {kind: lane for lane, kinds in LANES.items() for kind in kinds}
    for row in (WorkItem.objects.exclude(state=WorkState.DONE).values("kind", "state").annotate(n=Count("pk"))):
        states = counts.setdefault(kind_lane.get(row["kind"], "default"), {})
        states[row["state"]] = states.get(row["state"], 0) + row["n"]
    running = WorkItem.objects.filter(state=WorkState.RUNNING).select_related("account").order_by("claimed_at")
    result = {name: Lane(name=name, states=counts.get(name, {}), prompts=None) for name in LANES}
    for item in running[:200]:
        result.setdefault(kind_lane.get(item.kind, "default"), Lane(kind_lane.get(item.kind, "default"), {}, None)
                          ).running.append(item)
    try:
        redis = django_rq.get_connection("default")
        for name, lane in result.items():
            lane.prompts = queue_for(name).count
        for worker in Worker.all(connection=redis):
            job = worker.get_current_job()
            for name in worker.queue_names():
                if name in result:
                    result[name].workers.append((worker.name, worker.get_state(),
                                                 job.description[:120] if job else ""))
    except Exception:  # noqa: BLE001 - Redis down: the page still shows what Postgres knows
        pass
    return list(result.values())
