"""Feeds API 2021-06-30 with JSON_LISTINGS_FEED processing and Amazon's processing report."""

from __future__ import annotations

import datetime as dt
import gzip
import json

from .documents import new_document, presigned_url
from .listings import UNKNOWN_SKU_CODE, add_listing, apply_patches
from .orders import list_arg, page, resume
from .quotas import QUOTA_EXCEEDED_MESSAGE
from .state import iso, parse_iso
from .web import ApiError, Routes, empty_response, invalid_input, json_response, not_found

routes = Routes()
FEED_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")

MAX_MESSAGES = 25_000
OPERATIONS = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
# Retired XML/flat-file listings feeds: Amazon accepts them but they end FATAL.
RETIRED_FEED_TYPES = {
    "POST_PRODUCT_DATA",
    "POST_INVENTORY_AVAILABILITY_DATA",
    "POST_PRODUCT_PRICING_DATA",
    "POST_PRODUCT_RELATIONSHIP_DATA",
    "POST_PRODUCT_IMAGE_DATA",
    "POST_PRODUCT_OVERRIDES_DATA",
    "POST_FLAT_FILE_INVLOADER_DATA",
    "POST_FLAT_FILE_LISTINGS_DATA",
    "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA",
}
FATAL_CODE = "4000000"  # the emulator's code for a document it cannot read


class FatalFeed(Exception):
    """The document cannot be processed at all."""


@routes.add("POST", r"/feeds/2021-06-30/documents", "createFeedDocument")
def create_feed_document(state, request):
    content_type = request.json().get("contentType")
    if not content_type:
        raise invalid_input("contentType is required.", "body.contentType")
    document_id = new_document(state, content_type)
    return json_response(201, {"feedDocumentId": document_id, "url": presigned_url(state, document_id)})


@routes.add("POST", r"/feeds/2021-06-30/feeds", "createFeed")
def create_feed(state, request):
    body = request.json()
    feed_type = body.get("feedType")
    if not feed_type:
        raise invalid_input("feedType is required.", "body.feedType")
    if feed_type != "JSON_LISTINGS_FEED" and feed_type not in RETIRED_FEED_TYPES:
        raise invalid_input(f"feedType {feed_type} is not supported.", "body.feedType")
    marketplaces = body.get("marketplaceIds")
    if not isinstance(marketplaces, list) or not marketplaces:
        raise invalid_input("marketplaceIds is required.", "body.marketplaceIds")
    with state.lock:
        if body.get("inputFeedDocumentId") not in state.documents:
            raise invalid_input(
                "inputFeedDocumentId is not a document created by createFeedDocument.", "body.inputFeedDocumentId"
            )
        if not state.quotas.take_feed(state.seller_id, feed_type):
            raise ApiError(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE)
        feed_id = str(50000000000 + state.next_number())
        state.feeds[feed_id] = {
            "feedId": feed_id,
            "feedType": feed_type,
            "marketplaceIds": marketplaces,
            "createdTime": iso(state.now()),
            "processingStatus": "IN_QUEUE",
            "inputFeedDocumentId": body["inputFeedDocumentId"],
            "polls": 0,
        }
    return json_response(202, {"feedId": feed_id})


def public_feed(feed):
    return {key: value for key, value in feed.items() if key not in ("polls", "inputFeedDocumentId")}


@routes.add("GET", r"/feeds/2021-06-30/feeds", "getFeeds")
def get_feeds(state, request):
    """Feeds by type (required without nextToken), marketplace, status and creation time, newest first."""
    token = request.arg("nextToken")
    with state.lock:
        if token:
            ids, size = resume(state, "getFeeds", token, "nextToken")
        else:
            types = list_arg(request, "feedTypes", 10)
            if not types:
                raise invalid_input("feedTypes is required when nextToken is not given.", "feedTypes")
            marketplaces = set(list_arg(request, "marketplaceIds", 10))
            statuses = set(request.arg_choices("processingStatuses", FEED_STATUSES))
            since = request.arg_time("createdSince", state.now() - dt.timedelta(days=90))
            until = request.arg_time("createdUntil", state.now())
            size = request.arg_int("pageSize", 10, 1, 100)
            chosen = [feed for feed in state.feeds.values() if feed["feedType"] in types
                      and (not marketplaces or marketplaces & set(feed["marketplaceIds"]))
                      and (not statuses or feed["processingStatus"] in statuses)
                      and since <= parse_iso(feed["createdTime"]) <= until]
            ids = [feed["feedId"] for feed in sorted(chosen, key=lambda f: f["createdTime"], reverse=True)]
        head, next_token = page(state, "getFeeds", ids, size, size)
        feeds = [public_feed(state.feeds[feed_id]) for feed_id in head]
    body = {"feeds": feeds}
    if next_token:
        body["nextToken"] = next_token
    return json_response(200, body)


@routes.add("GET", r"/feeds/2021-06-30/feeds/(?P<feed_id>[^/]+)", "getFeed")
def get_feed(state, request):
    with state.lock:
        feed = state.feeds.get(request.params["feed_id"])
        if feed is None:
            raise not_found(f"Feed {request.params['feed_id']} was not found.")
        advance(state, feed)
        public = public_feed(feed)
    return json_response(200, public)


@routes.add("DELETE", r"/feeds/2021-06-30/feeds/(?P<feed_id>[^/]+)", "cancelFeed")
def cancel_feed(state, request):
    """Only a feed still IN_QUEUE can be cancelled. Amazon does not document the answer for one already
    being processed; refusing it with 400 is the stricter choice (the feed goes on)."""
    with state.lock:
        feed = state.feeds.get(request.params["feed_id"])
        if feed is None:
            raise not_found(f"Feed {request.params['feed_id']} was not found.")
        if feed["processingStatus"] != "IN_QUEUE":
            raise invalid_input(f"Feed {feed['feedId']} is {feed['processingStatus']}; only IN_QUEUE feeds can be "
                                "cancelled.", "feedId")
        feed["processingStatus"] = "CANCELLED"
        feed["processingEndTime"] = iso(state.now())
    return empty_response(200)


@routes.add("GET", r"/feeds/2021-06-30/documents/(?P<document_id>[^/]+)", "getFeedDocument")
def get_feed_document(state, request):
    document_id = request.params["document_id"]
    with state.lock:
        if document_id not in state.documents:
            raise not_found(f"Feed document {document_id} was not found.")
        compressed = state.documents[document_id].get("compressed")
    answer = {"feedDocumentId": document_id, "url": presigned_url(state, document_id)}
    if compressed:
        answer["compressionAlgorithm"] = "GZIP"
    return json_response(200, answer)


def advance(state, feed):
    """Move a feed along as it is polled: IN_QUEUE -> IN_PROGRESS -> DONE/FATAL (or stuck IN_PROGRESS)."""
    if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
        return
    feed["polls"] += 1
    faults = state.faults
    if faults.feed_seconds_to_done is not None:
        finished = (state.now() - parse_iso(feed["createdTime"])).total_seconds() >= faults.feed_seconds_to_done
    else:
        finished = feed["polls"] >= faults.feed_polls_to_done
    started = finished or feed["polls"] >= faults.feed_polls_to_done - 1 or faults.feed_seconds_to_done is not None
    if started and feed["processingStatus"] == "IN_QUEUE":
        feed["processingStatus"] = "IN_PROGRESS"
        feed["processingStartTime"] = iso(state.now())
    if finished and not faults.stuck_feeds:
        finish(state, feed)


def finish(state, feed):
    data = state.documents[feed["inputFeedDocumentId"]]["data"]
    header = {"sellerId": state.seller_id, "version": "2.0", "feedId": feed["feedId"]}
    try:
        if feed["feedType"] in RETIRED_FEED_TYPES:
            raise FatalFeed(f"{feed['feedType']} is no longer supported; use JSON_LISTINGS_FEED.")
        messages = read_listings_feed(state, data)
        issues, accepted = process_messages(state, messages)
        summary = {
            "errors": len(issues),
            "warnings": 0,
            "messagesProcessed": len(messages),
            "messagesAccepted": accepted,
            "messagesInvalid": len(messages) - accepted,
        }
        feed["processingStatus"] = "DONE"
    except FatalFeed as fatal:
        issues = [{"code": FATAL_CODE, "severity": "ERROR", "message": str(fatal)}]
        summary = {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0, "messagesInvalid": 0}
        feed["processingStatus"] = "FATAL"
    report = json.dumps({"header": header, "issues": issues, "summary": summary}).encode()
    # Served gzipped with compressionAlgorithm GZIP: Amazon may compress result documents, so a
    # client must honour the field (the stricter of the two behaviours).
    feed["resultFeedDocumentId"] = new_document(state, "application/json", gzip.compress(report))
    state.documents[feed["resultFeedDocumentId"]]["compressed"] = True
    feed["processingEndTime"] = iso(state.now())


def read_listings_feed(state, data):
    """The messages of a JSON_LISTINGS_FEED document, or FatalFeed naming what is wrong."""
    if data is None:
        raise FatalFeed("The feed document was never uploaded.")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FatalFeed(f"The feed document is not UTF-8 JSON: {exc}") from None
    header = document.get("header") if isinstance(document, dict) else None
    if not isinstance(header, dict):
        raise FatalFeed("header is missing.")
    if header.get("sellerId") != state.seller_id:
        raise FatalFeed(f"header.sellerId {header.get('sellerId')!r} does not match the selling partner.")
    if header.get("version") != "2.0":
        raise FatalFeed(f"header.version must be '2.0', got {header.get('version')!r}.")
    messages = document.get("messages")
    if not isinstance(messages, list) or not messages:
        raise FatalFeed("messages must be a non-empty list.")
    if len(messages) > MAX_MESSAGES:
        raise FatalFeed(f"The feed has {len(messages)} messages; at most {MAX_MESSAGES} are allowed.")
    seen = set()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise FatalFeed(f"{where} must be an object.")
        number = message.get("messageId")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 2**31 - 1 or number in seen:
            raise FatalFeed(f"{where}.messageId must be a unique integer from 1 to 2147483647, got {number!r}.")
        seen.add(number)
        if not message.get("sku"):
            raise FatalFeed(f"{where}.sku is required.")
        if message.get("operationType") not in OPERATIONS:
            raise FatalFeed(f"{where}.operationType must be one of {', '.join(OPERATIONS)}.")
        if message["operationType"] != "DELETE" and not message.get("productType"):
            raise FatalFeed(f"{where}.productType is required.")
    return messages


def process_messages(state, messages):
    """Apply each message to the listings; (issues, number accepted)."""
    issues, accepted = [], 0
    for message in messages:
        problems = apply_message(state, message)
        for problem in problems:
            issues.append(
                {
                    "messageId": message["messageId"],
                    "sku": message["sku"],
                    "code": problem["code"],
                    "severity": problem["severity"],
                    "message": problem["message"],
                }
            )
        accepted += not problems
    return issues, accepted


def apply_message(state, message):
    sku, operation = message["sku"], message["operationType"]
    listing = state.listings.get(sku)
    if operation == "DELETE":
        state.listings.pop(sku, None)
        return []
    if listing is None:
        if operation == "UPDATE":
            add_listing(state, sku, quantity=0, handling_days=None, product_type=message["productType"])
            state.listings[sku]["attributes"] = {}
            listing = state.listings[sku]
        else:
            return [
                {
                    "code": UNKNOWN_SKU_CODE,
                    "severity": "ERROR",
                    "message": f"SKU '{sku}' does not exist for this seller.",
                }
            ]
    if operation == "PATCH":
        patches = message.get("patches")
    else:
        attributes = message.get("attributes") or {}
        patches = [
            {"op": "replace", "path": f"/attributes/{name}", "value": value} for name, value in attributes.items()
        ]
        if operation == "UPDATE":  # a full update replaces the whole attribute set
            listing = {**listing, "attributes": {}}
    attributes, problems = apply_patches(listing, patches)
    if not problems:
        state.listings[sku]["attributes"] = attributes
        state.listings[sku]["updated"] = iso(state.now())
    return problems
