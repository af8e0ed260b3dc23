"""A text field whose value is encrypted at rest with the hub's Fernet key."""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
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


def _fernet():
    return Fernet(settings.ENCRYPTION_KEY.encode())


def encrypt(value):
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token):
    try:
        return SecretText(_fernet().decrypt(token.encode()).decode())
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted: HUB_ENCRYPTION_KEY has changed") from None


def mask(value):
    """What the UI and API show of a secret: never more than its last two characters."""
    if not value:
        return ""
    return STARS + (value[-2:] if len(value) >= 8 else "")


class EncryptedTextField(models.TextField):
    """Stores a Fernet token in the database; Python code sees the plain value (as SecretText)."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
