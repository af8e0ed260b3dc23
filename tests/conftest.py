import pytest


@pytest.fixture(autouse=True)
def _clean_redis(settings):
    """Each test starts with empty queues and rate-limit buckets in its own Redis database."""
    import django_rq

    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield
