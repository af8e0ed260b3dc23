"""Listings Items API 2021-08-01: a seller's listings, their attributes, and PATCH as Amazon applies it."""

from __future__ import annotations

import copy
import uuid

from .generator import CATALOGUE, asin_for
from .orders import page, resume
from .state import iso
from .web import ApiError, Routes, invalid_input, json_response

routes = Routes()

ITEM_PATH = r"/listings/2021-08-01/items/(?P<seller_id>[^/]+)/(?P<sku>[^/]+)"
PATCH_OPS = ("add", "replace", "merge", "delete")
UNKNOWN_SKU_CODE = "4000001"  # the emulator's code for "no listing with this SKU"
INVALID_VALUE_CODE = "90220"
# The emulator's code for a submission ACCEPTED, then refused by Amazon's later processing (the real
# codes vary by cause and are not documented as a list; the listing's issues name it, ERROR severity).
REJECTED_LATER_CODE = "4000005"


def issue(code, message, attribute=None):
    found = {"code": code, "message": message, "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}
    if attribute:
        found["attributeNames"] = [attribute]
    return found


def add_listing(state, sku, quantity=0, handling_days=2, product_type="PRODUCT", title=None):
    """Create or replace a merchant-fulfilled listing with stock and handling time."""
    availability = {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
    if handling_days is not None:
        availability["lead_time_to_ship_max_days"] = handling_days
    with state.lock:
        now = iso(state.now())
        state.listings[sku] = {
            "sku": sku,
            "product_type": product_type,
            "asin": asin_for(sku),
            "item_name": title or CATALOGUE.get(sku, (f"Product {sku}",))[0],
            "created": now,
            "updated": now,
            "attributes": {"fulfillment_availability": [availability]},
        }


def listing_view(state, sku):
    """{sku, quantity, handling_days, product_type, attributes} or None; what tests assert on."""
    with state.lock:
        listing = state.listings.get(sku)
        if listing is None:
            return None
        availability = (listing["attributes"].get("fulfillment_availability") or [{}])[0]
        return {
            "sku": sku,
            "quantity": availability.get("quantity"),
            "handling_days": availability.get("lead_time_to_ship_max_days"),
            "product_type": listing["product_type"],
            "attributes": copy.deepcopy(listing["attributes"]),
            "issues": copy.deepcopy(listing.get("issues", [])),
        }


def check_availability(value):
    """Issues for a fulfillment_availability value."""
    problems = []
    for index, entry in enumerate(value):
        where = f"fulfillment_availability[{index}]"
        if not isinstance(entry, dict) or not entry.get("fulfillment_channel_code"):
            problems.append(
                issue(INVALID_VALUE_CODE, f"{where}.fulfillment_channel_code is required.", "fulfillment_availability")
            )
            continue
        for key in ("quantity", "lead_time_to_ship_max_days"):
            number = entry.get(key)
            if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
                problems.append(
                    issue(
                        INVALID_VALUE_CODE,
                        f"{where}.{key} must be a whole number of 0 or more, got {number!r}.",
                        "fulfillment_availability",
                    )
                )
    return problems


def apply_patches(listing, patches):
    """Apply JSON patches to a copy of the attributes; (new attributes, issues). Nothing changes when issues."""
    attributes = copy.deepcopy(listing["attributes"])
    problems = []
    if not isinstance(patches, list) or not patches:
        return attributes, [issue(INVALID_VALUE_CODE, "patches must be a non-empty list.")]
    for index, patch in enumerate(patches):
        where = f"patches[{index}]"
        path = patch.get("path", "") if isinstance(patch, dict) else ""
        name = path[len("/attributes/") :]
        if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS:
            problems.append(issue(INVALID_VALUE_CODE, f"{where}.op must be one of {', '.join(PATCH_OPS)}."))
        elif not path.startswith("/attributes/") or not name or "/" in name:
            problems.append(
                issue(INVALID_VALUE_CODE, f"{where}.path must be /attributes/<top-level attribute>, got {path!r}.")
            )
        elif patch["op"] == "delete":
            attributes.pop(name, None)
        elif not isinstance(patch.get("value"), list):
            problems.append(issue(INVALID_VALUE_CODE, f"{where}.value must be a list.", name))
        else:
            value = copy.deepcopy(patch["value"])
            if name == "fulfillment_availability":
                problems.extend(check_availability(value))
            if patch["op"] == "merge" and attributes.get(name):
                # merge keeps what the patch does not mention; replace (and add) drop it.
                value = [{**old, **new} for old, new in zip(attributes[name], value, strict=False)] + value[
                    len(attributes[name]) :
                ]
            attributes[name] = value
    return attributes, problems


def item_body(state, listing, included):
    availability = listing["attributes"].get("fulfillment_availability") or []
    body = {"sku": listing["sku"]}
    if "summaries" in included:
        body["summaries"] = [
            {
                "marketplaceId": state.marketplace_id,
                "asin": listing["asin"],
                "productType": listing["product_type"],
                "conditionType": "new_new",
                "status": ["BUYABLE", "DISCOVERABLE"],
                "itemName": listing["item_name"],
                "createdDate": listing["created"],
                "lastUpdatedDate": listing["updated"],
            }
        ]
    if "attributes" in included:
        body["attributes"] = copy.deepcopy(listing["attributes"])
    if "issues" in included:
        body["issues"] = copy.deepcopy(listing.get("issues", []))
    if "fulfillmentAvailability" in included:
        body["fulfillmentAvailability"] = [
            {
                "fulfillmentChannelCode": entry.get("fulfillment_channel_code", "DEFAULT"),
                "quantity": entry.get("quantity", 0),
            }
            for entry in availability
        ]
    return body


def check_seller(state, request):
    if request.params["seller_id"] != state.seller_id:
        raise ApiError(
            403, "Unauthorized", "Access to requested resource is denied.", "The sellerId does not match the token."
        )
    if not request.arg_list("marketplaceIds"):
        raise invalid_input("marketplaceIds is required.", "marketplaceIds")


@routes.add("GET", ITEM_PATH, "getListingsItem")
def get_listings_item(state, request):
    check_seller(state, request)
    included = set(request.arg_list("includedData")) or {"summaries"}
    with state.lock:
        listing = state.listings.get(request.params["sku"])
        if listing is None:
            raise ApiError(
                404, "NOT_FOUND", f"SKU '{request.params['sku']}' not found in marketplace {state.marketplace_id}"
            )
        body = item_body(state, listing, included)
    return json_response(200, body)


@routes.add("PATCH", ITEM_PATH, "patchListingsItem")
def patch_listings_item(state, request):
    check_seller(state, request)
    body = request.json()
    sku = request.params["sku"]
    if not body.get("productType"):
        raise invalid_input("productType is required.", "body.productType")
    mode = request.arg("mode")
    if mode not in (None, "VALIDATION_PREVIEW"):
        raise invalid_input(f"mode {mode!r} is not supported; the only mode is VALIDATION_PREVIEW.", "mode")
    preview = mode == "VALIDATION_PREVIEW"
    with state.lock:
        listing = state.listings.get(sku)
        if listing is None:
            problems = [
                issue(UNKNOWN_SKU_CODE, f"SKU '{sku}' does not exist for this seller; create the listing first.")
            ]
        elif body["productType"] != listing["product_type"]:
            problems = [
                issue(
                    INVALID_VALUE_CODE,
                    f"productType {body['productType']} does not match the listing's {listing['product_type']}.",
                )
            ]
        else:
            attributes, problems = apply_patches(listing, body.get("patches"))
            if not problems and not preview and getattr(request, "rejected_later", False):
                # ACCEPTED now; processing refuses it afterwards: nothing changes, the listing says why.
                listing["issues"] = [issue(REJECTED_LATER_CODE, "The submission was accepted but could not be "
                                           "processed; the listing keeps its previous values.",
                                           "fulfillment_availability")]
            elif not problems and not preview:
                listing["attributes"] = attributes
                listing["issues"] = []
                listing["updated"] = iso(state.now())
    status = "INVALID" if problems else ("VALID" if preview else "ACCEPTED")
    return json_response(200, {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": problems})


SEARCH_PATH = r"/listings/2021-08-01/items/(?P<seller_id>[^/]+)"
SEARCH_MAX_IDENTIFIERS = 20  # the model's maxItems for `identifiers`
SEARCH_MAX_PAGE = 20  # the model's maximum pageSize
INCLUDED_DATA = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                 "relationships", "productTypes"}


@routes.add("GET", SEARCH_PATH, "searchListingsItems")
def search_listings_items(state, request):
    """Listings found by SKU (up to 20 identifiers) or all of the seller's, a page of at most 20 at a time."""
    check_seller(state, request)
    included = set(request.arg_choices("includedData", INCLUDED_DATA)) or {"summaries"}
    identifiers = request.arg_list("identifiers")
    kind = request.arg("identifiersType")
    if identifiers and kind is None:
        raise invalid_input("identifiersType is required when identifiers are given.", "identifiersType")
    if kind is not None and kind != "SKU":
        raise invalid_input(f"identifiersType {kind} is not emulated; use SKU.", "identifiersType")
    if len(identifiers) > SEARCH_MAX_IDENTIFIERS:
        raise invalid_input(f"identifiers may name at most {SEARCH_MAX_IDENTIFIERS} items.", "identifiers")
    size = request.arg_int("pageSize", 10, 1, SEARCH_MAX_PAGE)
    with state.lock:
        token = request.arg("pageToken")
        if token:
            skus, _ = resume(state, "searchListingsItems", token, "pageToken")
        elif identifiers:
            skus = [sku for sku in dict.fromkeys(identifiers) if sku in state.listings]
        else:
            skus = sorted(state.listings)
        head, next_token = page(state, "searchListingsItems", skus, size, None)
        items = [item_body(state, state.listings[sku], included) for sku in head if sku in state.listings]
    body = {"numberOfResults": len(skus), "items": items}
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return json_response(200, body)
