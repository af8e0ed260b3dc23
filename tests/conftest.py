import pytest
from django.contrib.auth.models import Group, User

# Emulator fixtures, usable from any test.
pytest_plugins = ["tests.fixtures_amazon", "tests.fixtures_clarus", "tests.fixtures_dynamics_sl",
                  "tests.fixtures_sage500"]


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with empty queues, rate-limit buckets and token caches, as a new process would."""
    import django_rq

    from connectors import shared_cache

    django_rq.get_connection("default").flushdb()
    shared_cache._in_memory.clear()
    yield


def make_user(role):
    """A signed-in-able user in one of the hub's roles (groups created by migration)."""
    user = User.objects.create_user(username=f"{role}-user", password="a-long-test-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def ops_user(db):
    return make_user("ops")


@pytest.fixture
def finance_user(db):
    return make_user("finance")


@pytest.fixture
def admin_user(db):
    return make_user("admin")


@pytest.fixture
def client_as(client):
    """client_as(user) signs the test client in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
