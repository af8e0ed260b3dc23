"""The RQ worker every lane runs (settings.RQ["WORKER_CLASS"]).

RQ forks a work horse per job. What a job loads on first use (httpx's transport, the CA bundle, a
back office's client) is loaded again in every fork, so the worker loads it once, before it forks:
each horse starts with it in memory it shares with the worker.
"""

from rq import Worker


def preload():
    """Load what the jobs of every lane use. Never a database or network connection: a fork must
    not share one with its parent."""
    import httpcore  # noqa: F401 - httpx imports it on building its first client

    from connectors import registry
    from connectors.amazon.spapi import tls_context

    for dotted in registry.BACK_OFFICES.values():
        registry.load(dotted)
    tls_context()


class HubWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preload()
