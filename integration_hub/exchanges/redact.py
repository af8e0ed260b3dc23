"""Masks secrets and buyer personal data before anything is written to the exchange log.

JSON bodies are masked by key (secret keys; buyer and address subtrees, and any key that names an
address part, e-mail, phone or person); form-encoded bodies by field the same way; every other text
(HTML error pages, SQL messages, URLs) has URL passwords and Authorization credentials masked, and
the error column the same. A text body that is neither JSON nor a form (a flat file) may carry an
address anywhere, so only its size is kept.
"""

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


def redact(value, parent=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS:
                out[key] = MASK
            elif lowered in PII_KEYS and not (lowered == "name" and parent in SAFE_NAME_PARENTS):
                out[key] = MASK
            elif PII_KEY_PATTERN.search(lowered) and not isinstance(item, (dict, list, tuple)):
                out[key] = MASK
            else:
                out[key] = redact(item, lowered)
        return out
    if isinstance(value, (list, tuple)):
        return [redact(item, parent) for item in value]
    if isinstance(value, str):
        return redact_text(value)
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
    if isinstance(value, (bytes, bytearray)):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return f"<{len(value)} bytes>"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            text = _text(value)
        else:
            text = json.dumps(redact(value), default=str, ensure_ascii=False)
    else:
        text = json.dumps(redact(value), default=str, ensure_ascii=False)
    limit = settings.EXCHANGE_BODY_LIMIT
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"
