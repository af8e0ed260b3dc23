import pytest
from django.db import connection

from connectors.models import BackOfficeConnection, SellerAccount

pytestmark = pytest.mark.django_db


def test_secrets_are_encrypted_at_rest_and_readable_in_python():
    account = SellerAccount.objects.create(name="UK", seller_id="A1", marketplace_ids=["A1F83G8C2ARO7P"],
                                           lwa_client_secret="lwa-very-secret", refresh_token="Atzr|refresh-me")
    with connection.cursor() as cursor:
        cursor.execute("SELECT lwa_client_secret, refresh_token FROM connectors_selleraccount WHERE id = %s",
                       [account.pk])
        stored = cursor.fetchone()
    assert "lwa-very-secret" not in stored[0] and "refresh-me" not in stored[1]
    assert stored[0].startswith("gAAAA")  # a Fernet token
    fresh = SellerAccount.objects.get(pk=account.pk)
    assert fresh.lwa_client_secret == "lwa-very-secret" and fresh.refresh_token == "Atzr|refresh-me"


def test_admin_never_shows_a_stored_secret_and_blank_keeps_it(client_as, admin_user):
    conn = BackOfficeConnection.objects.create(name="SL", kind="dynamics_sl", endpoint="postgresql://db/sl",
                                               username="hub", secret="sql-password-123")
    client = client_as(admin_user)
    page = client.get(f"/admin/connectors/backofficeconnection/{conn.pk}/change/").content.decode()
    assert "sql-password-123" not in page
    assert "********23" in page
    response = client.post(f"/admin/connectors/backofficeconnection/{conn.pk}/change/", {
        "name": "SL", "kind": "dynamics_sl", "endpoint": "postgresql://db/sl", "username": "hub", "secret": "",
        "options": "{}", "webhook_token": "", "active": "on"})
    assert response.status_code == 302
    assert BackOfficeConnection.objects.get(pk=conn.pk).secret == "sql-password-123"


def test_buyer_name_address_and_phone_are_encrypted_at_rest():
    from tests.factories import AddressFactory

    address = AddressFactory(name="Jane Buyer", line1="1 High Street", phone="0113 000000",
                             order__buyer_email="jane@marketplace.amazon.co.uk")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, line1, phone FROM orders_address WHERE id = %s", [address.pk])
        stored = " ".join(cursor.fetchone())
        cursor.execute("SELECT buyer_email FROM orders_order WHERE id = %s", [address.order_id])
        stored += cursor.fetchone()[0]
    for personal in ("Jane", "High Street", "0113", "jane@"):
        assert personal not in stored
    assert address.order.__class__.objects.get(pk=address.order_id).address.line1 == "1 High Street"
