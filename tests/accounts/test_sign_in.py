"""Signing in: brute force is throttled (django-axes) and admins give a second factor (TOTP, with
recovery codes); `reset_2fa` removes a lost device."""

import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a-long-test-password-1"
pytestmark = pytest.mark.django_db


def code_for(device, later=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


def sign_in(client, user, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": user.username, "password": password}, **extra)


def test_wrong_passwords_lock_out_that_user_from_that_address(ops_user):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert sign_in(client, ops_user, "wrong-password").status_code == 200  # the form again, with an error
    assert sign_in(client, ops_user, "wrong-password").status_code == 429  # the fifth locks
    locked = sign_in(client, ops_user)  # even the right password now
    assert locked.status_code == 429
    assert "Signing in is paused" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The admin's login is the same door.
    admin_page = client.post("/admin/login/", {"username": ops_user.username, "password": PASSWORD})
    assert admin_page.status_code == 429
    # Another address is not locked out; the lockout is lifted by the command.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.2"), ops_user).status_code == 302
    call_command("axes_reset_username", ops_user.username, stdout=StringIO())
    assert sign_in(client, ops_user).status_code == 302


@override_settings(BEHIND_PROXY=True)
def test_behind_the_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(ops_user):
    for n in range(5):
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9")
        sign_in(client, ops_user, "wrong-password")
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.9")
    assert sign_in(client, ops_user).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert sign_in(other, ops_user).status_code == 302


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_an_admin_sets_up_an_authenticator_then_needs_it_at_every_sign_in(admin_user):
    client = Client()
    response = sign_in(client, admin_user)
    assert response.status_code == 302
    # Signed in with the password only: every page leads to setting up the second factor.
    page = client.get("/orders/")
    assert page.status_code == 302 and page.url.startswith("/accounts/2fa/setup/")
    assert client.get("/api/orders/").status_code == 403
    setup = client.get(page.url)
    assert setup.status_code == 200 and "<path" in setup.content.decode()
    assert "<svg:" not in setup.content.decode()  # namespaced elements do not render inline in HTML
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert client.post("/accounts/2fa/setup/", {"code": "000000", "next": "/orders/"}).status_code == 400
    time.sleep(1.1)  # a wrong code makes the device wait (1 s, doubling with each further failure)
    confirmed = client.post("/accounts/2fa/setup/", {"code": code_for(device), "next": "/orders/"})
    assert confirmed.status_code == 200, confirmed.content.decode()[:2000]
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", confirmed.content.decode())
    assert len(codes) == 10
    assert client.get("/orders/").status_code == 200

    # Next sign-in: the password is not enough, and setting up another device is refused.
    client = Client()
    sign_in(client, admin_user)
    page = client.get("/orders/")
    assert page.status_code == 302 and page.url.startswith("/accounts/2fa/verify/")
    assert client.get("/accounts/2fa/setup/").url == "/accounts/2fa/verify/"
    assert client.post("/accounts/2fa/verify/", {"code": "123456"}).status_code == 400
    time.sleep(1.1)
    verified = client.post("/accounts/2fa/verify/", {"code": code_for(device, later=30), "next": "/orders/"})
    assert verified.status_code == 302 and verified.url == "/orders/"
    assert client.get("/orders/").status_code == 200

    # A recovery code works once.
    for expected in (302, 400):
        client = Client()
        sign_in(client, admin_user)
        assert client.post("/accounts/2fa/verify/", {"code": codes[0]}).status_code == expected
    assert client.get("/orders/").status_code == 302


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_wrong_codes_are_throttled(admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)
    client = Client()
    sign_in(client, admin_user)
    for _ in range(3):
        client.post("/accounts/2fa/verify/", {"code": "000000"})
    # The right code straight after is refused until the back-off has passed.
    assert client.post("/accounts/2fa/verify/", {"code": code_for(device)}).status_code == 400


@override_settings(REQUIRE_2FA_FOR_ADMINS=False)
def test_not_required_ops_sign_in_with_a_password_unless_they_chose_two_factor(ops_user, admin_user):
    client = Client()
    sign_in(client, ops_user)
    assert client.get("/orders/").status_code == 200
    client = Client()
    sign_in(client, admin_user)
    assert client.get("/orders/").status_code == 200
    TOTPDevice.objects.create(user=ops_user, name="authenticator", confirmed=True)
    client = Client()
    sign_in(client, ops_user)
    assert client.get("/orders/").url.startswith("/accounts/2fa/verify/")


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_reset_2fa_removes_a_lost_device_and_the_admin_sets_up_again(admin_user):
    TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)
    out = StringIO()
    call_command("reset_2fa", admin_user.username, stdout=out)
    assert '"devices_removed": 1' in out.getvalue()
    client = Client()
    sign_in(client, admin_user)
    assert client.get("/orders/").url.startswith("/accounts/2fa/setup/")
