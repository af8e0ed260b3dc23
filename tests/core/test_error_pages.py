"""No decrypted secret reaches a page: not the admin, not a DEBUG error page, not an error e-mail."""

import sys

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings
from django.views.debug import ExceptionReporter

from connectors.models import BackOfficeConnection, SellerAccount
from integration_hub.core.fields import SecretText

pytestmark = pytest.mark.django_db

LWA_SECRET = "amzn1.oa2-cs.v1.lwa-secret-value-77"
REFRESH = "Atzr|IwEBrefresh-token-value-88"
SQL_PASSWORD = "sql-pass-word-99"
WEBHOOK = "hooktoken-abcdef-55"
SECRETS = (LWA_SECRET, REFRESH, SQL_PASSWORD, WEBHOOK)


@pytest.fixture
def connections():
    conn = BackOfficeConnection.objects.create(
        name="SL", kind="dynamics_sl", endpoint="postgresql://db/sl", username="hub",
        secret=SQL_PASSWORD, webhook_token=WEBHOOK)
    account = SellerAccount.objects.create(
        name="UK", seller_id="A1", marketplace_ids=["A1F83G8C2ARO7P"], lwa_app_id="amzn1.app",
        lwa_client_secret=LWA_SECRET, refresh_token=REFRESH, back_office=conn)
    return account, conn


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text
        assert secret[:-2] not in text  # not even most of it


@pytest.mark.parametrize("role", ["ops", "finance", "admin"])
def test_every_role_opens_connections_in_admin_without_error_or_secret(role, connections, client_as, request):
    account, conn = connections
    client = client_as(request.getfixturevalue(f"{role}_user"))
    for url in (f"/admin/connectors/selleraccount/{account.pk}/change/",
                f"/admin/connectors/backofficeconnection/{conn.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, (role, url)
        page = response.content.decode()
        assert_no_secret(page)
        assert "********88" in page or "********99" in page  # the mask, so users know a value is set


def test_view_only_user_sees_masks_and_no_editable_secret(connections, client_as, ops_user):
    account, conn = connections
    # A row saved before the admin refused passwords in URLs still shows none.
    BackOfficeConnection.objects.filter(pk=conn.pk).update(endpoint=f"postgresql://hub:{SQL_PASSWORD}@db/sl")
    page = client_as(ops_user).get(f"/admin/connectors/backofficeconnection/{conn.pk}/change/").content.decode()
    assert "postgresql://hub:********@db/sl" in page
    assert "********55" in page
    assert 'type="password"' not in page


def test_admin_refuses_a_password_inside_the_endpoint_url(connections, client_as, admin_user):
    account, conn = connections
    response = client_as(admin_user).post(f"/admin/connectors/backofficeconnection/{conn.pk}/change/", {
        "name": "SL", "kind": "dynamics_sl", "endpoint": f"postgresql://hub:{SQL_PASSWORD}@db/sl",
        "username": "hub", "secret": "", "options": "{}", "webhook_token": WEBHOOK, "active": "on"})
    assert response.status_code == 200
    assert "Leave the password out of the URL" in response.content.decode()
    assert BackOfficeConnection.objects.get(pk=conn.pk).endpoint == "postgresql://db/sl"


@override_settings(DEBUG=True)
def test_debug_error_page_in_admin_shows_no_secret(connections, admin_user, monkeypatch):
    account, conn = connections

    def broken_mask(value):
        raise RuntimeError("mask exploded")

    monkeypatch.setattr("connectors.admin.mask", broken_mask)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for url in (f"/admin/connectors/selleraccount/{account.pk}/change/",
                f"/admin/connectors/backofficeconnection/{conn.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 500
        page = response.content.decode()
        assert "mask exploded" in page and "Local vars" in page  # the technical page, with its locals
        assert_no_secret(page)


def report_of(exc_info, debug):
    request = RequestFactory().post("/admin/x/", {"refresh_token": REFRESH, "secret": SQL_PASSWORD, "name": "UK"})
    request.user = User(username="someone")
    with override_settings(DEBUG=debug):
        reporter = ExceptionReporter(request, *exc_info)
        return reporter.get_traceback_html(), reporter.get_traceback_text()


def fails_holding_secrets():
    sealed = SecretText(LWA_SECRET)  # as a model field decrypts it
    url = f"postgresql+psycopg://hub:{SQL_PASSWORD}@db:5432/sl"
    request_form = {"client_id": "hub", "client_secret": "plain-" + LWA_SECRET}
    headers = {"Authorization": f"Bearer {WEBHOOK}"}
    refresh_token = REFRESH
    innocent = "order 202-1234567-1234567"
    raise ValueError(f"failed near {innocent} ({len(sealed + url + str(request_form) + str(headers) + refresh_token)})")


@pytest.mark.parametrize("debug", [True, False])
def test_error_reports_hide_secrets_in_locals_post_data_and_settings(debug):
    try:
        fails_holding_secrets()
    except ValueError:
        html, text = report_of(sys.exc_info(), debug)
    for report in (html, text):
        assert "202-1234567-1234567" in report  # useful locals stay visible
        assert_no_secret(report)


def test_secret_text_is_a_string_except_for_its_repr():
    sealed = SecretText("pw-123456789")
    assert sealed == "pw-123456789" and f"{sealed}" == "pw-123456789" and str(sealed) == "pw-123456789"
    assert "pw-1234" not in repr(sealed) and "pw-1234" not in repr({"x": sealed})
    assert type(SellerAccount(refresh_token="x").refresh_token) is str  # only decrypted values are sealed
