"""Masks secrets and buyer personal data before anything is written to the exchange log.

JSON bodies are masked by key (secret keys; buyer and address subtrees, and any key that names an
address part, e-mail, phone or person); form-encoded bodies by field the same way; every other text
(HTML error pages, SQL messages, URLs) has URL passwords and Authorization credentials masked, and
the error column the same. A text body that is neither JSON nor a form (a flat file) may carry an
address anywhere, so only its size is kept.
"""

import functools
import json
import re
from urllib.parse import parse_qsl, urlencode

from django.conf import settings

from integration_hub.core.debug import redact_text

MASK = "***"
SECRET_KEYS = {
    "access_token", "refresh_token", "client_secret", "lwa_client_secret", "password", "secret",
    "x-amz-access-token", "authorization", "restricteddatatoken", "token", "pwd",
}
# Whole subtrees that hold buyer personal data (Amazon DPP) or an address.
PII_KEYS = {
    "buyerinfo", "buyer", "buyername", "buyeremail", "buyercompanyname", "recipient", "shippingaddress",
    "deliveryaddress", "address", "addresses", "name", "email", "email_address", "phone", "phone_number",
    "addressline1", "addressline2", "addressline3", "address_1", "address_2", "address_3", "address_4",
    "buyerpurchaseordernumber", "purchaseordernumber",
}
# Keys named "name" that are not personal (carrier names, products): kept.
SAFE_NAME_PARENTS = {"carrier", "carrier_service", "shippingservice", "product", "warehouse", "account"}
# Any other key that names an address part or a way to reach a person (back-office columns such as
# ShipToAddrLine1, ShipToName, EMailAddr, ShipToPostalCode).
PII_KEY_PATTERN = re.compile(r"addr|e-?mail|phone|fax|postal|postcode|zipcode|^zip$|(^|_|to)city$|county|street|"
                             r"shipto.*name|contactname|recipient", re.I)
FORM = re.compile(r"^[\w.%~-]+=[^&\s]*(&[\w.%~-]+=[^&\s]*)*$")


KEEP, MASK_ALWAYS, MASK_SCALAR, PERSON_NAME = range(4)


@functools.lru_cache(maxsize=4096)
def _rule(lowered):
    """What to do with a key's value (keys repeat in every order and line: decided once per key)."""
    if lowered in SECRET_KEYS:
        return MASK_ALWAYS
    if lowered in PII_KEYS:
        return PERSON_NAME if lowered == "name" else MASK_ALWAYS
    if PII_KEY_PATTERN.search(lowered):
        return MASK_SCALAR
    return KEEP


class _Budget:
    """How many characters of JSON the summary may still use: a lower bound of what each kept value
    adds, so redaction stops once the text would be cut anyway (a search page of a hundred orders is
    two hundred times the limit)."""

    def __init__(self, limit):
        self.left = limit

    def spend(self, count):
        self.left -= count
        return self.left < 0


def redact(value, parent="", budget=None):
    """`value` with secrets and buyer data masked. With a `budget`, lists and objects end early once it
    is spent: what would be kept of their JSON is unchanged, the rest (beyond the limit) is left out."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            rule = _rule(lowered)
            if rule == PERSON_NAME:
                rule = KEEP if parent in SAFE_NAME_PARENTS else MASK_ALWAYS
            if rule == MASK_ALWAYS or (rule == MASK_SCALAR and not isinstance(item, (dict, list, tuple))):
                out[key] = MASK
            else:
                out[key] = redact(item, lowered, budget)
            if budget is not None and budget.spend(len(str(key)) + 4):
                break
        return out
    if isinstance(value, (list, tuple)):
        if budget is None:
            return [redact(item, parent) for item in value]
        out = []
        for item in value:
            out.append(redact(item, parent, budget))
            if budget.spend(1):
                break
        return out
    if isinstance(value, str):
        value = redact_text(value)
        if budget is not None:
            budget.spend(len(value))
        return value
    if budget is not None:
        budget.spend(1)
    return value


def _text(value):
    """A body that is not JSON: a form's fields masked by name; a message on one line or an HTML page
    keeps its text (credentials masked); lines or tab-separated records (a flat file) only their size."""
    stripped = value.strip()
    if FORM.match(stripped):
        return urlencode(redact(dict(parse_qsl(stripped, keep_blank_values=True))), safe="*")
    if stripped.startswith("<") or ("\n" not in stripped and "\t" not in stripped):
        return redact_text(value)
    return f"<{len(value)} characters of text, not kept: it may hold buyer data>"


def redact_error(text):
    """The error column: credentials in URLs and Authorization values masked."""
    return redact_text(str(text or ""))


def summarise(value):
    """A redacted, size-limited text form of a request or response body."""
    if value is None or value == "":
        return ""
    limit = settings.EXCHANGE_BODY_LIMIT
    if isinstance(value, (bytes, bytearray)):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return f"<{len(value)} bytes>"
    text = None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            text = _text(value)
    if text is None:
        text = json.dumps(redact(value, budget=_Budget(limit)), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "... [more characters not kept]"
