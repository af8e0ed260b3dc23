"""A text field whose value is encrypted at rest with the hub's Fernet key."""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _fernet():
    return Fernet(settings.ENCRYPTION_KEY.encode())


def encrypt(value):
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token):
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted: HUB_ENCRYPTION_KEY has changed") from None


def mask(value):
    """What the UI and API show of a secret: never more than its last two characters."""
    if not value:
        return ""
    return "********" + (value[-2:] if len(value) >= 8 else "")


class EncryptedTextField(models.TextField):
    """Stores a Fernet token in the database; Python code sees the plain value."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
