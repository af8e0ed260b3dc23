"""Amazon order ids in Sage 500 user fields, which are only 15 characters wide (BACKOFFICE.md 4.4).

An id that fits the field is stored as it is. A standard 3-7-7 id (19 characters) is stored in a
reversible compact form, "AMZ#" followed by its 17 digits in base 36 (11 characters), so the
connector can find the order again and report dispatches under the full id:

    to_user_field("202-1234567-7654321", 15)  ->  "AMZ#..." (15 characters)
    from_user_field("AMZ#...")                ->  "202-1234567-7654321"
"""

import re

from connectors.base import ConnectorError

PREFIX = "AMZ#"  # "#" never occurs in an Amazon order id, so a stored id cannot look encoded
STANDARD_ID = re.compile(r"^(\d{3})-(\d{7})-(\d{7})$")
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ENCODED_LENGTH = 11  # 36**11 > 10**17


def to_user_field(amazon_order_id, width):
    """The value that stands for `amazon_order_id` in a user field `width` characters wide."""
    if len(amazon_order_id) <= width:
        return amazon_order_id
    match = STANDARD_ID.match(amazon_order_id)
    if match and len(PREFIX) + ENCODED_LENGTH <= width:
        number = int("".join(match.groups()))
        encoded = ""
        while number:
            number, digit = divmod(number, 36)
            encoded = DIGITS[digit] + encoded
        return PREFIX + encoded.rjust(ENCODED_LENGTH, "0")
    raise ConnectorError(
        f"Amazon order id {amazon_order_id!r} does not fit a {width}-character Sage user field", permanent=True
    )


def from_user_field(value):
    """The Amazon order id a user field holds (the inverse of `to_user_field`)."""
    value = (value or "").strip()
    if not value.startswith(PREFIX):
        return value
    digits = str(int(value[len(PREFIX):], 36)).rjust(17, "0")
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"
