"""Fixtures for the Amazon connector's tests: a seller account on the emulator and its connector."""

import pytest

from connectors.amazon.calls import Caller
from connectors.amazon.client import AmazonConnector
from tests.factories import SellerAccountFactory


@pytest.fixture
def account(amazon_emulator):
    return SellerAccountFactory(
        seller_id=amazon_emulator.seller_id, marketplace_ids=[amazon_emulator.marketplace_id],
        lwa_app_id=amazon_emulator.client_id, lwa_client_secret=amazon_emulator.client_secret,
        refresh_token=amazon_emulator.refresh_token, endpoint=amazon_emulator.url,
        token_url=f"{amazon_emulator.url}/auth/o2/token",
    )


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(Caller, "BACKOFF_BASE", 0.02)


@pytest.fixture
def connector(account, fast_retries):
    amazon = AmazonConnector(account)
    yield amazon
    amazon.close()
