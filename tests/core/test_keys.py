"""Credentials and buyer data under separate keys; rotation with MultiFernet and `rotate_keys`."""

import json
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from connectors.models import SellerAccount
from connectors.shared_cache import read_token, shared_redis, store_token
from integration_hub.orders.models import Address, Order
from tests.factories import AddressFactory, SellerAccountFactory

pytestmark = pytest.mark.django_db


def stored(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def readable_with(key, token):
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def keys(n):
    return [Fernet.generate_key().decode() for _ in range(n)]


def rotate(**options):
    from io import StringIO

    out = StringIO()
    call_command("rotate_keys", stdout=out, stderr=StringIO(), **options)
    return json.loads(out.getvalue().splitlines()[-1])


def test_credentials_and_buyer_data_use_different_keys():
    address = AddressFactory(name="Jane Buyer", order__account__refresh_token="Atzr|refresh-me")
    secret = stored("connectors_selleraccount", "refresh_token", address.order.account_id)
    name = stored("orders_address", "name", address.pk)
    credentials, buyer = settings.CREDENTIALS_KEYS[0], settings.BUYER_DATA_KEYS[0]
    assert credentials != buyer
    assert readable_with(credentials, secret) and not readable_with(buyer, secret)
    assert readable_with(buyer, name) and not readable_with(credentials, name)


def test_rotation_reads_old_values_then_rotate_keys_moves_everything_to_the_new_key():
    (old_credentials, new_credentials), (old_buyer, new_buyer) = keys(2), keys(2)
    with override_settings(CREDENTIALS_KEYS=[old_credentials], BUYER_DATA_KEYS=[old_buyer]):
        accounts = SellerAccountFactory.create_batch(3, lwa_client_secret="lwa-secret-1", refresh_token="Atzr|r1")
        addresses = AddressFactory.create_batch(5, name="Jane Buyer", line1="1 High Street", phone="")
        Order.objects.filter(pk=addresses[0].order_id).update(buyer_email="")  # blanks are skipped, not counted
    with override_settings(CREDENTIALS_KEYS=[new_credentials, old_credentials],
                           BUYER_DATA_KEYS=[new_buyer, old_buyer]):
        # New key in front: old values still read, new writes use the new key.
        assert SellerAccount.objects.get(pk=accounts[0].pk).refresh_token == "Atzr|r1"
        assert Address.objects.get(pk=addresses[0].pk).name == "Jane Buyer"
        preview = rotate(dry_run=True, batch_size=2)
        assert preview["rotate_keys"]["rotated"] > 0
        assert readable_with(old_credentials, stored("connectors_selleraccount", "refresh_token", accounts[0].pk))

        # Interrupted after the credentials: the buyer data is still old, and a second run finishes it.
        first = rotate(purpose="credentials", batch_size=2)
        n = SellerAccount.objects.count()  # the addresses' orders brought accounts of their own
        assert first["fields"]["connectors.SellerAccount.refresh_token"] == {
            "scanned": n, "rotated": n, "current": 0, "undecryptable": 0}
        assert "orders.Address.name" not in first["fields"]
        second = rotate(batch_size=2)
        assert second["fields"]["connectors.SellerAccount.refresh_token"]["rotated"] == 0
        assert second["fields"]["connectors.SellerAccount.refresh_token"]["current"] == n
        assert second["fields"]["orders.Address.name"]["rotated"] == 5
        assert second["fields"]["orders.Address.line1"]["rotated"] == 5
        assert second["fields"]["orders.Address.phone"]["scanned"] == 0
        assert rotate()["rotate_keys"]["rotated"] == 0  # nothing left: resumable means idempotent
    with override_settings(CREDENTIALS_KEYS=[new_credentials], BUYER_DATA_KEYS=[new_buyer]):
        # The old keys dropped: everything reads with the new ones alone.
        for account in accounts:
            fresh = SellerAccount.objects.get(pk=account.pk)
            assert (fresh.lwa_client_secret, fresh.refresh_token) == ("lwa-secret-1", "Atzr|r1")
        for address in addresses:
            assert Address.objects.get(pk=address.pk).name == "Jane Buyer"
        token = stored("orders_address", "line1", addresses[-1].pk)
        assert readable_with(new_buyer, token) and not readable_with(old_buyer, token)


def test_a_value_no_key_reads_is_reported_and_left_as_it_is():
    lost, current = keys(2)  # the account has three: LWA secret, refresh token, its back office's password
    with override_settings(CREDENTIALS_KEYS=[lost]):
        account = SellerAccountFactory(refresh_token="Atzr|lost")
    before = stored("connectors_selleraccount", "refresh_token", account.pk)
    with override_settings(CREDENTIALS_KEYS=[current]):
        with pytest.raises(CommandError, match=r"^3 stored values could not be decrypted"):
            rotate(purpose="credentials")
        with pytest.raises(ValueError, match="HUB_CREDENTIALS_KEYS"):
            SellerAccount.objects.get(pk=account.pk)
    assert stored("connectors_selleraccount", "refresh_token", account.pk) == before


def test_a_cached_access_token_under_a_dropped_key_is_a_cache_miss():
    old, new = keys(2)
    with override_settings(CREDENTIALS_KEYS=[old]):
        store_token("test:keys:token", {"access_token": "Atza|x"}, 60)
    try:
        with override_settings(CREDENTIALS_KEYS=[new, old]):
            assert read_token("test:keys:token") == {"access_token": "Atza|x"}
        with override_settings(CREDENTIALS_KEYS=[new]):
            assert read_token("test:keys:token") is None
    finally:
        shared_redis().delete("test:keys:token")


def run_settings(env):
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "integration_hub.settings", "HUB_DEBUG": "0",
            "HUB_SECRET_KEY": "x" * 50, "DATABASE_URL": settings.DATABASE_URL}
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                           "from integration_hub.core.fields import encrypt; encrypt('x')"],
                          capture_output=True, text=True, env={**base, **env}, cwd=settings.BASE_DIR)


def test_production_needs_both_keys_different_and_well_formed():
    one, two = keys(2)
    result = run_settings({"HUB_CREDENTIALS_KEYS": one})
    assert result.returncode != 0 and "HUB_BUYER_DATA_KEYS must be set" in result.stderr
    result = run_settings({"HUB_CREDENTIALS_KEYS": one, "HUB_BUYER_DATA_KEYS": f"{one},{two}"})
    assert result.returncode != 0 and "must start with different keys" in result.stderr
    result = run_settings({"HUB_CREDENTIALS_KEYS": f"{one},not-a-key", "HUB_BUYER_DATA_KEYS": two})
    assert result.returncode != 0 and "HUB_CREDENTIALS_KEYS: key 2 is not a Fernet key" in result.stderr
    result = run_settings({"HUB_CREDENTIALS_KEYS": one, "HUB_BUYER_DATA_KEYS": two})
    assert result.returncode == 0, result.stderr
