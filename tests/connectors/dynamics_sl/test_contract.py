"""The shared back-office contract, run against the Dynamics SL emulator."""

from tests.connectors.backoffice_contract import BackOfficeContract


class TestDynamicsSLContract(BackOfficeContract):
    """Dynamics SL meets the back-office contract."""
