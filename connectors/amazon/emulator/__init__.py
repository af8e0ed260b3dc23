"""A local stand-in for Amazon's Selling Partner API, so the hub runs and is tested without an Amazon account.

It serves the same paths, shapes, status codes, quotas and failure modes as SP-API for the operations
the hub uses (Login with Amazon, Orders v0 and 2026-01-01, Tokens, Listings Items, Feeds, Reports),
keeps its state in memory, and is driven from Python (`EmulatorServer`) or `/_emulator/...` endpoints.
"""

from .server import EmulatorServer
from .state import CLIENT_ID, CLIENT_SECRET, MARKETPLACE_ID, REFRESH_TOKEN, SELLER_ID

__all__ = ["EmulatorServer", "CLIENT_ID", "CLIENT_SECRET", "MARKETPLACE_ID", "REFRESH_TOKEN", "SELLER_ID"]
