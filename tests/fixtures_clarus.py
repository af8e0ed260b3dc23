"""Pytest fixtures for the Clarus WMS emulator and a connector bound to it."""

import secrets
import uuid

import pytest

from connectors.choices import BackOfficeKind
from connectors.clarus.client import ClarusBackOffice
from connectors.clarus.emulator import ClarusEmulator
from connectors.models import BackOfficeConnection


@pytest.fixture(scope="session")
def clarus_emulator():
    """One emulator on a loopback port for the session; tests isolate themselves by tenant."""
    emulator = ClarusEmulator(deterministic=True).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def clarus_tenant(clarus_emulator):
    """A fresh tenant (its own subdomain, credentials, products and orders) for one test."""
    subdomain = f"t{uuid.uuid4().hex[:12]}"
    return clarus_emulator.add_tenant(subdomain, f"client-{subdomain}", secrets.token_hex(12))


def clarus_connection_for(emulator, tenant, **options):
    """A saved BackOfficeConnection pointing at an emulator tenant (needs database access)."""
    return BackOfficeConnection.objects.create(
        name=f"Clarus {tenant.subdomain}",
        kind=BackOfficeKind.CLARUS,
        endpoint=emulator.url,
        username=tenant.client_id,
        secret=tenant.client_secret,
        options={"subdomain": tenant.subdomain, "account_id": tenant.account_id,
                 "warehouse_id": tenant.warehouse_id, "timeout": 5, "retry_backoff": 0, **options},
        webhook_token=secrets.token_urlsafe(24),
    )


@pytest.fixture
def clarus_connection(clarus_emulator, clarus_tenant):
    return clarus_connection_for(clarus_emulator, clarus_tenant)


@pytest.fixture
def clarus_backoffice(clarus_connection):
    return ClarusBackOffice(clarus_connection)
