"""Suggested fixes for the exceptions page, so an operator decides in one click instead of researching.
Each suggestion says why; nothing is applied without a click.

- An unknown SellerSKU: the closest back-office item codes, from what the hub knows of that back office
  (items it has measured stock for, and items already linked), ranked by a fuzzy match on the code and
  by links made for the same SellerSKU on other accounts.
- A warehouse ship method with no carrier map: the most likely Amazon carrier code, from Amazon's
  accepted list and the maps already made (e.g. "DPD Local Next Day" -> DPD).
"""

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from integration_hub.inventory.models import StockLevel
from mappings.carrier_codes import CARRIER_CODES, OTHER
from mappings.models import CarrierMap, SkuLink

MIN_SCORE = 60


@dataclass(frozen=True)
class Suggestion:
    value: str
    score: int  # 0-100
    why: str


def _words(text):
    """Upper case, punctuation as spaces: 'demo_sku-001' and 'DEMO SKU 001' compare equal."""
    return re.sub(r"[^A-Z0-9]+", " ", text.upper()).strip()


def known_items(connection):
    """{item code: what the hub knows of it} for a back office: read once per page, whatever the SKUs."""
    known = {}
    for code, available in StockLevel.objects.filter(connection=connection).values_list("item_code", "available"):
        known.setdefault(code, f"in stock at the warehouse ({available} available)")
    for code in (SkuLink.objects.filter(account__back_office=connection, active=True)
                 .values_list("item_code", flat=True).distinct()):
        known.setdefault(code, "already linked to another SKU")
    return known


def item_codes(account, seller_sku, limit=3, known=None):
    """The back-office item codes most likely meant by an unlinked SellerSKU of `account` (`known`: from
    `known_items` of its back office, when several SKUs are looked up at once)."""
    connection = account.back_office
    if connection is None:
        return []
    known = known_items(connection) if known is None else known
    suggestions = {}
    for link in (SkuLink.objects.filter(seller_sku=seller_sku, active=True).exclude(account=account)
                 .select_related("account")):
        suggestions[link.item_code] = Suggestion(link.item_code, 100, f"linked to {seller_sku} on {link.account}")
    for _, score, code in process.extract(_words(seller_sku), {code: _words(code) for code in known},
                                          scorer=fuzz.token_set_ratio, limit=limit + len(suggestions)):
        if score >= MIN_SCORE and code not in suggestions:
            suggestions[code] = Suggestion(code, round(score), f"code {round(score)}% alike; {known[code]}")
    return sorted(suggestions.values(), key=lambda s: -s.score)[:limit]


def carrier_codes(ship_method, limit=3, maps=None):
    """Amazon carrier codes most likely meant by a warehouse ship method that has no carrier map (`maps`:
    the active carrier maps, read once when several methods are looked up)."""
    suggestions = {}
    maps = list(CarrierMap.objects.filter(active=True)) if maps is None else maps
    for carrier_map in maps:
        score = fuzz.token_set_ratio(_words(ship_method), _words(carrier_map.warehouse_ship_method))
        if score >= 80 and carrier_map.carrier_code not in suggestions:
            suggestions[carrier_map.carrier_code] = Suggestion(
                carrier_map.carrier_code, round(score),
                f"'{carrier_map.warehouse_ship_method}' is mapped to it ({round(score)}% alike)")
    words = _words(ship_method)
    for _, score, code in process.extract(words, {code: _words(code) for code in CARRIER_CODES},
                                          scorer=fuzz.token_set_ratio, limit=limit * 3):
        if score >= 90 and code not in suggestions and code != OTHER:
            suggestions[code] = Suggestion(code, round(score), f"Amazon's carrier code {code} appears in the name")
    return sorted(suggestions.values(), key=lambda s: (-s.score, len(s.value)))[:limit]
