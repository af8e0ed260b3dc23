from integration_hub.sync.engine import sweep
from integration_hub.sync.scheduler import repeating


@repeating("sync.sweep", every=60)
def sweep_work_items():
    """Re-enqueue due work items and recover those whose worker died: the table is the record."""
    return sweep()
