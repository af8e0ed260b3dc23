"""Pytest fixtures for Dynamics SL: the emulated SL tables in the test database and a fast TI runner thread.

`backoffice` and `warehouse` are the fixtures the back-office contract asks for.
"""

import pytest
from sqlalchemy import create_engine

from connectors.dynamics_sl.emulator import SLEmulator, TIRunner, install, truncate
from connectors.sql import dispose_engines, django_database_url

SL_COMPANY = "0060"
OTHER_COMPANY = "0070"
SL_SHIP_VIA = "RM24"
# The SQL password the connector injects into the URL (the test server trusts local logins and ignores it);
# tests check it never reaches a log or an error.
SL_SECRET = "sl-sql-password-do-not-log"
SL_ACCOUNTS = {"1200": "Amazon receivable", "4000": "Amazon sales", "6100": "Amazon fees"}


class SLWarehouse:
    """The contract's handle on the emulated SL site: what people and the TI agent do there."""

    ship_method = SL_SHIP_VIA

    def __init__(self, backoffice, emulator, runner):
        self.backoffice, self.emulator, self.runner = backoffice, emulator, runner

    def add_item(self, item_code, on_hand):
        self.emulator.add_item(item_code, on_hand)

    def dispatch(self, amazon_order_id, packages, ship_method):
        return self.emulator.ship(amazon_order_id, packages, ship_via=ship_method)

    def drop_next_create_response(self):
        """The next create's file is imported only after the connector has given up waiting for it."""
        create = self.backoffice.create_sales_order
        options = self.backoffice.connection.options

        def lose_reply(order):
            del self.backoffice.create_sales_order  # one time only: back to the class's method
            saved = options["ti_wait_seconds"]
            options["ti_wait_seconds"] = 0.3
            self.runner.pause()
            try:
                return create(order)
            finally:
                options["ti_wait_seconds"] = saved
                self.runner.resume()

        self.backoffice.create_sales_order = lose_reply

    def order_count(self, amazon_order_id):
        return self.emulator.order_count(amazon_order_id)

    def gl_batches(self, reference):
        return self.emulator.gl_batches(reference)


@pytest.fixture(scope="session")
def sl_engine(django_db_setup):
    """An engine on the pytest-django test database, with the SL schema installed."""
    from django.db import connection

    engine = create_engine(django_database_url(connection.settings_dict))
    install(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sl_folders(tmp_path):
    folders = {name: tmp_path / name for name in ("drop", "log", "done")}
    for folder in folders.values():
        folder.mkdir()
    return folders


@pytest.fixture
def sl_emulator(sl_engine):
    """Empty SL tables with the Amazon customer, one ship method and the journal accounts."""
    truncate(sl_engine)
    emulator = SLEmulator(sl_engine, company_id=SL_COMPANY)
    emulator.add_customer()
    emulator.add_ship_via(SL_SHIP_VIA, "Royal Mail Tracked 24")
    for account, description in SL_ACCOUNTS.items():
        emulator.add_account(account, description)
    return emulator


@pytest.fixture
def sl_runner(sl_engine, sl_folders):
    runner = TIRunner(sl_engine, drop_dir=sl_folders["drop"], log_dir=sl_folders["log"],
                      done_dir=sl_folders["done"], poll_seconds=0.05).start()
    yield runner
    runner.stop()


@pytest.fixture
def sl_connection(db, sl_engine, sl_folders):
    from connectors.models import BackOfficeConnection

    url = sl_engine.url
    endpoint = url.set(username=None, password=None).render_as_string(hide_password=False)
    yield BackOfficeConnection.objects.create(
        name="Dynamics SL (emulator)", kind="dynamics_sl", endpoint=endpoint, username=url.username or "",
        secret=SL_SECRET, options={
            "company_id": SL_COMPANY, "site_id": "MAIN", "schema": "dynamics_sl",
            "ti_drop_dir": str(sl_folders["drop"]), "ti_log_dir": str(sl_folders["log"]),
            "ti_wait_seconds": 10, "ti_poll_seconds": 0.05, "dispatch_settle_seconds": 0,
        },
    )
    dispose_engines()


@pytest.fixture
def backoffice(sl_connection, sl_emulator, sl_runner):
    from connectors.registry import back_office_for

    return back_office_for(sl_connection)


@pytest.fixture
def warehouse(backoffice, sl_emulator, sl_runner):
    return SLWarehouse(backoffice, sl_emulator, sl_runner)
