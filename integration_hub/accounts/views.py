"""Two-factor pages: verify a code after the password, set up an authenticator, recovery codes."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from integration_hub.accounts import twofactor


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


def security(request):
    """The user's own two-factor status."""
    user = request.user
    return render(request, "accounts/security.html", {
        "enrolled": twofactor.enrolled(user), "required": twofactor.needs_second_factor(user),
        "codes_left": twofactor.recovery_codes_left(user), "verified": user.is_verified(),
    })


def verify(request):
    """The second step of signing in: a code from the authenticator, or a recovery code."""
    user = request.user
    if not twofactor.enrolled(user):
        return redirect("accounts:setup")
    error = ""
    if request.method == "POST":
        device = twofactor.check_code(user, request.POST.get("code", ""))
        if device is not None:
            otp_login(request, device)
            if device.name == twofactor.RECOVERY:
                messages.warning(request, f"Recovery code used; {twofactor.recovery_codes_left(user)} left.")
            return redirect(_next(request))
        error = "That code is not right, or too many wrong codes were tried: wait and try again."
    return render(request, "accounts/verify.html", {"error": error, "next": _next(request)},
                  status=400 if error else 200)


def setup(request):
    """Set up (or, once verified, replace) the authenticator. A user who has one but has not given it
    this session cannot set up another: a stolen password must not be enough to enrol."""
    user = request.user
    if twofactor.enrolled(user) and not user.is_verified():
        return redirect("accounts:verify")
    device = twofactor.pending_authenticator(user)
    error = ""
    if request.method == "POST":
        codes = twofactor.confirm_authenticator(user, device, request.POST.get("code", ""))
        if codes is not None:
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        error = "That code is not right: check the time on your phone and enter the current code."
    return render(request, "accounts/setup.html", {
        "qr": twofactor.qr_svg(device), "secret": twofactor.secret_for_display(device), "error": error,
        "next": _next(request),
    }, status=400 if error else 200)


@require_POST
def recovery_codes(request):
    """New recovery codes, replacing the old ones (only in a verified session)."""
    if not (twofactor.enrolled(request.user) and request.user.is_verified()):
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html",
                  {"codes": twofactor.new_recovery_codes(request.user), "next": settings.LOGIN_REDIRECT_URL})
