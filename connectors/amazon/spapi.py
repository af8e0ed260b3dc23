"""Glue to python-amazon-sp-api: where it sends requests, how it gets tokens, what we see of each answer.

Everything that bends the library lives here (FACTS 8.3): the endpoint and marketplace are set
on each client after construction (so SP_API_DEFAULT_MARKETPLACE cannot redirect us), the Host
header is derived from the endpoint (the library assumes "https://"), the LWA token URL is the
account's, token exchanges are logged like any other call, and the transport keeps the raw
answer so a non-JSON error page is not mistaken for an empty success.
"""

from __future__ import annotations

import functools
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
from sp_api.api.feeds.feeds_2021_06_30 import FeedsV20210630
from sp_api.api.listings_items.listings_items_2021_08_01 import ListingsItemsV20210801
from sp_api.api.orders.orders_2026_01_01 import OrdersV20260101
from sp_api.api.orders.orders_v0 import OrdersV0
from sp_api.api.reports.reports import Reports
from sp_api.auth import AccessTokenClient, AccessTokenResponse
from sp_api.auth.credentials import Credentials
from sp_api.base import fill_query_params, sp_endpoint
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import FromCodeCredentialProvider

from connectors.base import ConnectorError
from connectors.shared_cache import forget_token, shared_token

TIMEOUT = 30.0  # seconds per HTTP request
TOKEN_EARLY = 60  # refresh an access token this many seconds before Amazon says it expires


@functools.cache
def tls_context():
    """One TLS context per process (the CA bundle httpx would load for every client it builds: each
    seller account's connector builds several). Built by the worker before it forks (sync.worker)."""
    return httpx.create_ssl_context()


class CapturingTransport(HttpxTransport):
    """The library's httpx transport, keeping each thread's last raw response for the caller."""

    def __init__(self, client=None):
        super().__init__(timeout=TIMEOUT, verify=tls_context(), client=client)
        self._local = threading.local()

    @property
    def last(self):
        return getattr(self._local, "response", None)

    def forget(self):
        self._local.response = None

    def request(self, method, url, **kwargs):
        self._local.response = None
        response = super().request(method, url, **kwargs)
        self._local.response = response
        return response


class _HostFromEndpoint:
    """The library sets Host to endpoint[8:], which is wrong for any http:// endpoint."""

    @property
    def headers(self):
        headers = super().headers
        headers["host"] = urlsplit(self.endpoint).netloc
        return headers


class OrdersApi(_HostFromEndpoint, OrdersV20260101):
    """Orders API 2026-01-01 (searchOrders, getOrder)."""


class OrdersV0Api(_HostFromEndpoint, OrdersV0):
    """Orders API v0, still the home of confirmShipment."""


class ListingsApi(_HostFromEndpoint, ListingsItemsV20210801):
    """Listings Items API 2021-08-01."""


class ReportsApi(_HostFromEndpoint, Reports):
    """Reports API 2021-06-30."""


class FeedsApi(_HostFromEndpoint, FeedsV20210630):
    """Feeds API 2021-06-30, with the two calls the library only offers bundled with a download/upload."""

    @sp_endpoint("/feeds/2021-06-30/feeds", method="POST")
    def create_feed_for(self, feed_type, document_id, marketplace_ids, **kwargs):
        """createFeed for the given marketplaces (the library's create_feed always uses the client's one)."""
        path = kwargs.pop("path")
        data = {"feedType": feed_type, "marketplaceIds": list(marketplace_ids), "inputFeedDocumentId": document_id,
                **kwargs}  # kwargs carries the HTTP method
        return self._request(path, data=data)

    @sp_endpoint("/feeds/2021-06-30/documents/{}", method="GET")
    def feed_document_info(self, document_id, **kwargs):
        """getFeedDocument without the download: the caller fetches the URL itself, logged."""
        return self._request(fill_query_params(kwargs.pop("path"), document_id), params=kwargs, add_marketplace=False)


class AccountTokenClient(AccessTokenClient):
    """LWA for one seller account: its own token URL, each exchange logged, tokens kept until they expire.

    Tokens are kept in Redis, encrypted with the hub's key, so every worker process shares them
    (RQ forks a process per job: an in-memory cache would fetch a token for nearly every job).
    The key covers the token URL, client id and refresh token, so a changed credential or endpoint
    gets a new token.
    """

    def __init__(self, *, credentials, token_url, transport, fetch):
        self.cred = Credentials(None, credentials)
        self.token_url = token_url
        self._transport = transport
        self._fetch = fetch  # (url, form) -> token dict; goes through the connector's Caller

    def _get_cache_key(self, token_flavor=""):
        return "hub:lwa:" + super()._get_cache_key(f"{self.token_url}|{self.cred.client_id}|{token_flavor}")

    def get_auth(self) -> AccessTokenResponse:
        return AccessTokenResponse(**shared_token(self._get_cache_key(), self._login))

    def _login(self):
        token = self._fetch(self.token_url, self.data)
        if not token.get("access_token"):
            raise ConnectorError("LWA answered without an access_token", permanent=False)
        lifetime = float(token.get("expires_in") or 3600)
        token["expires_at"] = time.time() + lifetime - min(TOKEN_EARLY, lifetime / 2)
        return token

    def invalidate(self):
        """Forget the cached token (Amazon said it expired or was revoked)."""
        forget_token(self._get_cache_key())


def library_client(api_class, *, endpoint, marketplace_id, credentials, token_client, transport):
    """One library client aimed at `endpoint`, sharing the account's token client and our transport."""
    place = SimpleNamespace(endpoint=endpoint, marketplace_id=marketplace_id, region="")
    client = api_class(
        place,
        credentials=credentials,
        credential_providers=(FromCodeCredentialProvider,),  # never env vars or ~/.config files
        auth_token_client_class=lambda **_: token_client,
        timeout=TIMEOUT,
        verify=tls_context(),  # the client it builds is replaced below: at least not a new CA bundle
    )
    # SP_API_DEFAULT_MARKETPLACE, when set, overrides the marketplace argument: put ours back.
    client.endpoint = endpoint.rstrip("/")
    client.marketplace_id = marketplace_id
    client._transport.close()
    client._transport = transport
    return client
