"""Who must give a second factor, and the devices that give it: one TOTP authenticator per user and
a set of one-time recovery codes (django-otp's TOTP and static devices)."""

import base64

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from integration_hub.core.roles import is_admin

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"
RECOVERY_CODES = 10


def enrolled(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user):
    """Whether this signed-in user must verify a second factor before anything else."""
    return enrolled(user) or (settings.REQUIRE_2FA_FOR_ADMINS and is_admin(user))


def pending_authenticator(user):
    """The unconfirmed authenticator being set up (a new secret each time setup starts afresh)."""
    device = TOTPDevice.objects.filter(user=user, name=AUTHENTICATOR, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def secret_for_display(device):
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device):
    """The otpauth:// URL as an inline SVG (one path, no namespace prefixes, so HTML renders it)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    text = image.to_string(encoding="unicode")
    return text[text.index("<svg"):]


def confirm_authenticator(user, device, code):
    """Confirm a pending authenticator with a code from the app; it replaces any earlier one.
    Returns the new recovery codes, or None if the code is wrong."""
    if not device.verify_token(code.strip().replace(" ", "")):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(user)


def new_recovery_codes(user):
    """Replace the user's recovery codes with fresh ones (shown once, stored only as device tokens)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


def check_code(user, code):
    """The device that accepts this code (a six-digit authenticator code or a recovery code, which
    is used up), or None. Each device throttles its own failures (django-otp)."""
    code = code.strip().replace(" ", "")
    if code.isdigit() and len(code) == 6:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, name=RECOVERY, confirmed=True)
    for device in devices:
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def reset(user):
    """Remove every second-factor device of a user; returns how many."""
    totp = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    static = StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
    return totp + static
