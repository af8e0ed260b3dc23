"""The shared back-office contract, run against the Dynamics SL emulator."""

from tests.connectors.backoffice_contract import BackOfficeContract
from tests.fixtures_dynamics_sl import *  # noqa: F401,F403  (until tests/conftest.py registers them)


class TestDynamicsSLContract(BackOfficeContract):
    """Dynamics SL meets the back-office contract."""
