"""Masks secrets and buyer personal data before anything is written to the exchange log."""

import json

from django.conf import settings

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


def redact(value, parent=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS:
                out[key] = MASK
            elif lowered in PII_KEYS and not (lowered == "name" and parent in SAFE_NAME_PARENTS):
                out[key] = MASK
            else:
                out[key] = redact(item, lowered)
        return out
    if isinstance(value, (list, tuple)):
        return [redact(item, parent) for item in value]
    return value


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
            text = value
        else:
            text = json.dumps(redact(value), default=str, ensure_ascii=False)
    else:
        text = json.dumps(redact(value), default=str, ensure_ascii=False)
    limit = settings.EXCHANGE_BODY_LIMIT
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"
