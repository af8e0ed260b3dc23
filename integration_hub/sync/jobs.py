from integration_hub.sync.engine import sweep
from integration_hub.sync.scheduler import repeating


# Often: retried work waits for the sweep's prompt once its back-off has passed.
@repeating("sync.sweep", every=15)
def sweep_work_items():
    """Re-enqueue due work items and recover those whose worker died: the table is the record."""
    return sweep()
