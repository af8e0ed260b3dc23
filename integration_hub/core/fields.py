"""Text fields encrypted at rest: credentials and buyer data each under their own Fernet keys."""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

STARS = "********"


class SecretText(str):
    """A decrypted value: an ordinary string except for its repr, which is stars.

    Tracebacks, DEBUG error pages, error e-mails and `%r` in logs show a frame's locals by repr,
    so a secret or a buyer's address held in a local never reaches them in clear.
    """

    __slots__ = ()

    def __repr__(self):
        return f"'{STARS}'"


# purpose -> (setting holding its keys, environment variable named in errors)
PURPOSES = {
    "credentials": ("CREDENTIALS_KEYS", "HUB_CREDENTIALS_KEYS"),
    "buyer_data": ("BUYER_DATA_KEYS", "HUB_BUYER_DATA_KEYS"),
}


@functools.lru_cache(maxsize=16)
def _ring(keys, variable):
    """The MultiFernet for a list of keys: the first encrypts, all decrypt."""
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError:
            raise ImproperlyConfigured(
                f"{variable}: key {position} is not a Fernet key (32 url-safe base64-encoded bytes)") from None
    return MultiFernet(fernets), fernets[0]


def _keys(purpose):
    setting, variable = PURPOSES[purpose]
    return _ring(tuple(getattr(settings, setting)), variable)


def encrypt(value, purpose="credentials"):
    return _keys(purpose)[0].encrypt(value.encode()).decode()


def decrypt(token, purpose="credentials"):
    try:
        return SecretText(_keys(purpose)[0].decrypt(token.encode()).decode())
    except InvalidToken:
        raise ValueError(f"stored value cannot be decrypted with any key in {PURPOSES[purpose][1]}") from None


def is_current(token, purpose):
    """Whether a stored token is already encrypted with the purpose's first (current) key."""
    try:
        _keys(purpose)[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(token, purpose):
    """The token encrypted with the current key (ValueError if no key in the list reads it)."""
    try:
        return _keys(purpose)[0].rotate(token.encode()).decode()
    except InvalidToken:
        raise ValueError(f"stored value cannot be decrypted with any key in {PURPOSES[purpose][1]}") from None


def mask(value):
    """What the UI and API show of a secret: never more than its last two characters."""
    if not value:
        return ""
    return STARS + (value[-2:] if len(value) >= 8 else "")


class EncryptedTextField(models.TextField):
    """Stores a Fernet token in the database; Python code sees the plain value (as SecretText).

    `purpose` picks the key list ("credentials" or "buyer_data"); `rotate_keys` finds every
    field by it.
    """

    def __init__(self, *args, purpose="credentials", **kwargs):
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.purpose != "credentials":
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value, self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value, self.purpose)
