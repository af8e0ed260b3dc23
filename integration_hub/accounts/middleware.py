"""Until a user who needs a second factor has given it, the session reaches only the two-factor
pages and sign-out: pages redirect there, the API (session sign-in) answers 403."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from integration_hub.accounts.twofactor import enrolled, needs_second_factor

OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (user.is_authenticated and not user.is_verified() and not request.path.startswith(OPEN_PREFIXES)
                and needs_second_factor(user)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification required: sign in on the web first."},
                                    status=403)
            step = "accounts:verify" if enrolled(user) else "accounts:setup"
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
