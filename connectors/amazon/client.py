"""The hub's one way to Amazon: a seller account's SP-API calls on python-amazon-sp-api.

Every request goes through `Caller.run` (breaker, token, quota, quick retries, exchange log).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import gzip
import json
import logging
import time
from types import SimpleNamespace

from connectors.amazon import mapping
from connectors.amazon.calls import Caller, json_body
from connectors.amazon.mapping import AmazonDataError, iso, parse_time
from connectors.amazon.quotas import QuotaWaitTooLong, RateLimiter
from connectors.amazon.records import (
    AmazonOrder,
    FeedResult,
    PackageConfirmation,
    QuantityUpdate,
    SettlementReportInfo,
)
from connectors.amazon.spapi import (
    AccountTokenClient,
    CapturingTransport,
    FeedsApi,
    ListingsApi,
    OrdersApi,
    OrdersV0Api,
    ReportsApi,
    library_client,
)
from connectors.base import ConnectorError, ThrottledError

logger = logging.getLogger(__name__)

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_SKUS_TTL = 30 * 24 * 3600  # processing reports are kept 28 days
TERMINAL_FEED_STATES = {"DONE", "CANCELLED", "FATAL"}
SEARCH_PAGE = 100  # searchOrders' largest page (maxResultsPerPage)
LISTINGS_SEARCH_BATCH = 20  # searchListingsItems takes at most 20 identifiers (and pageSize 20)


class OrderList(list):
    """The orders a search could read; `unreadable` maps the id of each one it could not read to why.

    A plain list for callers that only iterate it; the import queues each unreadable id on its own,
    so one odd order is neither lost nor able to stop the others.
    """

    def __init__(self, orders=(), unreadable=None):
        super().__init__(orders)
        self.unreadable = dict(unreadable or {})


@dataclasses.dataclass
class OrderPage:
    """One searchOrders page: its orders, the token for the next page ("" on the last) and the window's end."""

    orders: OrderList
    next_token: str
    window_end: datetime.datetime


class AmazonConnector:
    """SP-API for one SellerAccount: orders, shipment confirmations, quantities, feeds, settlement reports."""

    INCLUDED_DATA = "BUYER,RECIPIENT,PROCEEDS,PROMOTION,FULFILLMENT,CANCELLATION"

    def __init__(self, account, *, limiter=None, sleep=time.sleep):
        missing = [label for label, value in (
            ("LWA client id", account.lwa_app_id), ("LWA client secret", account.lwa_client_secret),
            ("refresh token", account.refresh_token), ("seller id", account.seller_id),
            ("marketplace ids", account.marketplace_ids),
        ) if not value]
        if missing:
            raise ConnectorError(f"seller account {account}: missing {', '.join(missing)}", permanent=True)
        self.account = account
        self.seller_id = account.seller_id
        self.transport = CapturingTransport()
        self.limiter = limiter or RateLimiter(account.pk, sleep=sleep)
        self.caller = Caller(account, self.limiter, self.transport, sleep=sleep)
        self.credentials = {
            "lwa_app_id": account.lwa_app_id,
            "lwa_client_secret": account.lwa_client_secret,
            "refresh_token": account.refresh_token,
        }
        self.tokens = AccountTokenClient(
            credentials=SimpleNamespace(**self.credentials), token_url=account.lwa_token_url,
            transport=self.transport, fetch=self._fetch_token,
        )
        self.caller.tokens = self.tokens
        self._clients = {}

    def close(self):
        self.transport.close()

    # ---- plumbing ----------------------------------------------------------------------------

    def _api(self, api_class):
        if api_class not in self._clients:
            self._clients[api_class] = library_client(
                api_class, endpoint=self.account.api_endpoint, marketplace_id=self.account.marketplace_ids[0],
                credentials=self.credentials, token_client=self.tokens, transport=self.transport,
            )
        return self._clients[api_class]

    def _run(self, api, operation, send, correlation_id="", request=None):
        return self.caller.run(api, operation, send, correlation_id=correlation_id, request=request)

    def _fetch_token(self, url, form):
        response = self.caller.run(
            "tokens", "lwaToken",
            lambda: self.transport.request("POST", url, data=form, headers=self.tokens.headers),
            correlation_id=self.seller_id, request=form, needs_token=False,
        )
        return json_body(response, "lwaToken")

    @staticmethod
    def _read(operation, convert, *args):
        """Map Amazon's JSON; an unreadable answer is a permanent error naming the field."""
        try:
            return convert(*args)
        except AmazonDataError as exc:
            raise ConnectorError(f"{operation}: {exc}", permanent=True, code="UnreadableAnswer") from None

    @staticmethod
    def _need(payload, key, operation):
        if not isinstance(payload, dict) or key not in payload:
            raise ConnectorError(f"{operation}: the answer has no {key!r}", permanent=False)
        return payload[key]

    def _quantity_marketplaces(self, marketplace_ids):
        """A unified account has one quantity per SKU for the region: push it once, to one marketplace."""
        ids = list(marketplace_ids or self.account.marketplace_ids)
        return ids[:1] if self.account.unified_stock else ids

    # ---- orders ------------------------------------------------------------------------------

    def search_orders_page(self, after, before=None, token=None) -> OrderPage:
        """One page of the merchant-fulfilled orders changed in [after, before) (FBA orders are never
        routed, so never fetched). Without `token` it opens the window; Amazon's answer names the
        window's end (`lastUpdatedBefore`), which the next pages repeat with the page token.

        Each order is read on its own: one the connector cannot read (an unknown status, an odd
        amount) is logged and left out, its id and the reason in `orders.unreadable`.
        """
        params = {
            "lastUpdatedAfter": iso(after, "after", millis=True),
            "marketplaceIds": ",".join(self.account.marketplace_ids),
            "fulfilledBy": "MERCHANT", "includedData": self.INCLUDED_DATA, "maxResultsPerPage": SEARCH_PAGE,
        }
        if before is not None:
            params["lastUpdatedBefore"] = iso(before, "before", millis=True)
        if token:
            params["paginationToken"] = token
        api = self._api(OrdersApi)
        response = self._run("orders", "searchOrders", lambda: api.search_orders(**params), params["lastUpdatedAfter"],
                             params)
        orders = OrderList()
        for data in self._need(response.payload, "orders", "searchOrders"):
            self._read_searched(data, orders)
        window_end = self._read("searchOrders", parse_time, response.payload.get("lastUpdatedBefore"),
                                "lastUpdatedBefore")
        if window_end is None:  # Amazon always sends it; never move a watermark past what was seen
            logger.warning("searchOrders answered without lastUpdatedBefore; using the newest order seen")
            window_end = before or max([after] + [o.last_update_date for o in orders])
        return OrderPage(orders, response.next_token or "", window_end)

    def search_orders(self, last_updated_after) -> tuple[OrderList, datetime.datetime]:
        """Every page at once: orders changed since `last_updated_after` and the window's end."""
        first = page = self.search_orders_page(last_updated_after)
        orders = OrderList(page.orders, page.orders.unreadable)
        while page.next_token:
            page = self.search_orders_page(last_updated_after, first.window_end, page.next_token)
            orders.extend(page.orders)
            orders.unreadable.update(page.orders.unreadable)
        return orders, first.window_end

    @staticmethod
    def _read_searched(data, orders):
        """Add one searched order to `orders`, or its id and the reason to `orders.unreadable`."""
        try:
            orders.append(mapping.order_from_2026(data))
        except AmazonDataError as exc:
            order_id = data.get("orderId") if isinstance(data, dict) else None
            # The reason names fields and values, never the buyer's data.
            logger.warning("searchOrders: order %s left out, it cannot be read: %s", order_id or "without an id", exc)
            if order_id:
                orders.unreadable[str(order_id)] = str(exc)

    def get_order(self, order_id) -> AmazonOrder:
        """One order, fresh from Amazon (the "re-fetch this order" action)."""
        api = self._api(OrdersApi)
        request = {"orderId": order_id, "includedData": self.INCLUDED_DATA}
        response = self._run(
            "orders", "getOrder", lambda: api.get_order(order_id, includedData=self.INCLUDED_DATA), order_id, request
        )
        return self._read("getOrder", mapping.order_from_2026, self._need(response.payload, "order", "getOrder"))

    def confirm_shipment(self, order_id, marketplace_id, package: PackageConfirmation) -> None:
        """Confirm one package of an order (v0 confirmShipment; 204 is success). Split shipments: one call each."""
        body = mapping.confirm_shipment_body(order_id, marketplace_id, package)
        api = self._api(OrdersV0Api)
        self._run("orders", "confirmShipment", lambda: api.confirm_shipment(order_id, **copy.deepcopy(body)),
                  order_id, body)

    # ---- listings and feeds ------------------------------------------------------------------

    def update_quantity(self, update: QuantityUpdate, marketplace_ids=None) -> None:
        """Set a SKU's merchant-fulfilled quantity, keeping its handling time (read first when not given)."""
        marketplaces = self._quantity_marketplaces(marketplace_ids)
        api = self._api(ListingsApi)
        lead_days = update.handling_days
        if lead_days is None:
            lead_days = self._current_lead_days(api, update.sku, marketplaces[0])
        body = mapping.listings_patch_body(update, lead_days)
        for marketplace in marketplaces:
            response = self._run(
                "listings", "patchListingsItem",
                lambda marketplace=marketplace: api.patch_listings_item(
                    self.seller_id, update.sku, marketplaceIds=marketplace,
                                                body=copy.deepcopy(body)),
                update.sku, {"marketplaceIds": marketplace, **body},
            )
            status = response.payload.get("status")
            if status != "ACCEPTED":
                issues = "; ".join(i.get("message", "") for i in response.payload.get("issues") or [])
                raise mapping.invalid(f"patchListingsItem {update.sku}: Amazon answered {status}: {issues}")

    def _current_lead_days(self, api, sku, marketplace):
        response = self._run(
            "listings", "getListingsItem",
            lambda: api.get_listings_item(self.seller_id, sku, marketplaceIds=marketplace, includedData="attributes"),
            sku, {"marketplaceIds": marketplace, "includedData": "attributes"},
        )
        return mapping.lead_days_of(response.payload)

    def lead_days(self, skus) -> dict:
        """{sku: handling days or None} for listings found, 20 SKUs per searchListingsItems call."""
        api = self._api(ListingsApi)
        marketplace = self._quantity_marketplaces(None)[0]
        found = {}
        skus = list(dict.fromkeys(skus))
        for start in range(0, len(skus), LISTINGS_SEARCH_BATCH):
            batch = skus[start:start + LISTINGS_SEARCH_BATCH]
            params = {"marketplaceIds": marketplace, "identifiers": ",".join(batch), "identifiersType": "SKU",
                      "includedData": "attributes", "pageSize": LISTINGS_SEARCH_BATCH}
            response = self._run("listings", "searchListingsItems",
                                 lambda params=params: api.search_listings_items(self.seller_id, **params),
                                 batch[0], params)
            for item in response.payload.get("items") or []:
                found[item.get("sku")] = mapping.lead_days_of(item)
        return found

    def submit_quantity_feed(self, updates: list[QuantityUpdate]) -> str:
        """One JSON_LISTINGS_FEED of quantity PATCHes; returns the feed id. ValueError above 25,000 updates."""
        document, skus = mapping.quantity_feed(self.seller_id, updates)
        content = json.dumps(document, ensure_ascii=False).encode("utf-8")
        try:  # the feed type's own limit, taken before any document is made for it
            self.limiter.acquire("JSON_LISTINGS_FEED")
        except QuotaWaitTooLong as wait:
            raise ThrottledError(f"JSON_LISTINGS_FEED: Amazon takes 5 feeds per 5 minutes; the next may go in "
                                 f"{wait.wait:.0f}s", retry_after=wait.wait) from None
        api = self._api(FeedsApi)
        created = self._run("feeds", "createFeedDocument", lambda: api.create_feed_document(None, FEED_CONTENT_TYPE),
                            request={"contentType": FEED_CONTENT_TYPE})
        document_id = self._need(created.payload, "feedDocumentId", "createFeedDocument")
        url = self._need(created.payload, "url", "createFeedDocument")
        self._run("feeds", "uploadFeedDocument",
                  lambda: self.transport.request("PUT", url, content=content,
                                                 headers={"Content-Type": FEED_CONTENT_TYPE}),
                  document_id, f"<{len(content)} bytes, {len(updates)} messages>")
        marketplaces = self._quantity_marketplaces(None)
        feed = self._run("feeds", "createFeed",
                         lambda: api.create_feed_for("JSON_LISTINGS_FEED", document_id, marketplaces), document_id,
                         {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": marketplaces,
                          "inputFeedDocumentId": document_id})
        feed_id = str(self._need(feed.payload, "feedId", "createFeed"))
        # The processing report names issues by messageId; keep the SKUs behind them until it is read.
        self.limiter.redis.set(self._feed_skus_key(feed_id), json.dumps(skus), ex=FEED_SKUS_TTL)
        return feed_id

    def _feed_skus_key(self, feed_id):
        return f"amazon:feed-skus:{self.account.pk}:{feed_id}"

    def feed_result(self, feed_id) -> FeedResult:
        """The feed's state; once finished, its processing report's issues mapped back to SKUs."""
        api = self._api(FeedsApi)
        feed = self._run("feeds", "getFeed", lambda: api.get_feed(feed_id), feed_id, {"feedId": feed_id})
        status = self._need(feed.payload, "processingStatus", "getFeed")
        result = FeedResult(feed_id=str(feed_id), status=status, done=status in TERMINAL_FEED_STATES)
        document_id = feed.payload.get("resultFeedDocumentId")
        if not result.done or not document_id:
            return result
        content = self._document("feeds", api.feed_document_info, "getFeedDocument", document_id, feed_id)
        try:
            report = json.loads(content.decode("utf-8"))
        except ValueError:
            raise ConnectorError(f"feed {feed_id}: the processing report is not JSON", permanent=True) from None
        skus = json.loads(self.limiter.redis.get(self._feed_skus_key(feed_id)) or "{}")
        result.issues_by_sku, result.accepted, result.errors = mapping.feed_issues(report, skus)
        return result

    def _document(self, api, describe, operation, document_id, correlation_id):
        """A feed or report document: its presigned URL from Amazon, then the bytes, gunzipped."""
        info = self._run(api, operation, lambda: describe(document_id), correlation_id, {"documentId": document_id})
        url = self._need(info.payload, "url", operation)
        download = operation.replace("get", "download", 1)
        raw = self._run(api, download, lambda: self.transport.request("GET", url), correlation_id)
        content = raw.content
        if (info.payload.get("compressionAlgorithm") or "").upper() == "GZIP":
            try:
                content = gzip.decompress(content)
            except OSError:
                raise ConnectorError(f"{download} {document_id}: not valid GZIP", permanent=True) from None
        return content

    # ---- settlement reports ------------------------------------------------------------------

    def list_settlement_reports(self, created_since) -> list[SettlementReportInfo]:
        """Settlement reports (V2 flat file) that are DONE and created since the given time, all pages."""
        api = self._api(ReportsApi)
        params = {
            "reportTypes": SETTLEMENT_REPORT, "processingStatuses": "DONE", "pageSize": 100,
            "createdSince": iso(created_since, "created_since"),
            "marketplaceIds": ",".join(self.account.marketplace_ids),
        }
        reports = []
        while True:
            response = self._run("reports", "getReports", lambda params=params: api.get_reports(**params),
                                 SETTLEMENT_REPORT, params)
            for report in self._need(response.payload, "reports", "getReports"):
                reports.append(self._read("getReports", mapping.settlement_report_info, report))
            if not response.next_token:
                return reports
            params = {"nextToken": response.next_token}  # nextToken must be the only parameter

    def request_report(self, report_type) -> str:
        """createReport for the account's first marketplace; returns the reportId to follow."""
        api = self._api(ReportsApi)
        body = {"reportType": report_type, "marketplaceIds": self.account.marketplace_ids[:1]}
        response = self._run("reports", "createReport", lambda: api.create_report(**copy.deepcopy(body)),
                             report_type, body)
        return str(self._need(response.payload, "reportId", "createReport"))

    def report_state(self, report_id) -> tuple[str, str]:
        """(processingStatus, reportDocumentId or "") of a requested report."""
        api = self._api(ReportsApi)
        response = self._run("reports", "getReport", lambda: api.get_report(report_id), report_id,
                             {"reportId": report_id})
        status = self._need(response.payload, "processingStatus", "getReport")
        return status, response.payload.get("reportDocumentId") or ""

    def download_report(self, document_id) -> bytes:
        """A report document's raw bytes, gunzipped (the finance parser detects the encoding)."""
        api = self._api(ReportsApi)
        return self._document("reports", lambda doc: api.get_report_document(doc, download=False),
                              "getReportDocument", document_id, document_id)
