"""Fixtures for the Sage 500 emulator: installed once per test session in the test database's
`sage500` schema, emptied and reseeded for each test."""

import pytest

from connectors.choices import BackOfficeKind
from connectors.sage500.emulator import Sage500Emulator, emulator_engine, install
from connectors.sql import dispose_engines, django_database_url

SHIP_METHOD = "RM24"
GL_ACCOUNTS = ("1200", "4000", "6100")


@pytest.fixture(scope="session")
def sage500_url(django_db_setup):
    """The SQLAlchemy URL of the pytest-django test database, where the emulator is installed."""
    from django.db import connection

    url = django_database_url(connection.settings_dict)
    engine = emulator_engine(url)
    install(engine)
    engine.dispose()
    yield url
    dispose_engines()


@pytest.fixture
def sage500(sage500_url):
    """A freshly seeded company SOA with the Amazon customer, warehouse MAIN, ship methods and GL accounts."""
    engine = emulator_engine(sage500_url)
    sage = Sage500Emulator(engine)
    sage.reset()
    sage.setup_company()
    sage.add_ship_method(SHIP_METHOD, "Royal Mail Tracked 24")
    sage.add_ship_method("DPDNEXT", "DPD Next Day")
    for account in GL_ACCOUNTS:
        sage.add_gl_account(account)
    yield sage
    dispose_engines()  # the connector's pooled connections, so the test database can be dropped
    engine.dispose()


@pytest.fixture
def sage500_connection(sage500, sage500_url):
    """A saved BackOfficeConnection pointing at the emulated company (the login apart from the URL)."""
    from connectors.models import BackOfficeConnection

    return BackOfficeConnection.objects.create(
        name="Sage 500 (emulator)", kind=BackOfficeKind.SAGE500,
        endpoint=sage500_url._replace(username=None, password=None)
        .render_as_string(hide_password=False),
        username=sage500_url.username or "", secret=sage500_url.password or "",
        options=sage500.connection_options(),
    )


@pytest.fixture
def sage500_backoffice(sage500_connection):
    from connectors.registry import back_office_for

    return back_office_for(sage500_connection)
