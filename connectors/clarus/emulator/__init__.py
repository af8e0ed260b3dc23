"""A standalone Clarus WMS emulator (no Django): REST JSON:API writes, GraphQL reads, webhooks.

    emulator = ClarusEmulator(deterministic=True).start()
    warehouse = emulator.add_tenant("acme", "client-id", "client-secret", webhook_url=hub_url)
    warehouse.add_item("SKU-1", on_hand=10)
    ...
    emulator.stop()
"""

from connectors.clarus.emulator.server import ClarusEmulator, TenantHandle

__all__ = ["ClarusEmulator", "TenantHandle"]
