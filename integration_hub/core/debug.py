"""What error pages and error e-mails may show: never a secret, with DEBUG on or off.

Django's own filter hides `@sensitive_variables` only when DEBUG is off, and the `make run`
default is DEBUG on. This filter is always active and also hides, in every frame and setting:
values decrypted from the database (`SecretText`), names that say secret/token/password/key,
passwords inside URLs (`postgresql://hub:pw@db/sl`) and bearer tokens in text.
"""

import re

from django.utils.regex_helper import _lazy_re_compile
from django.views.debug import SafeExceptionReporterFilter

from integration_hub.core.fields import STARS, SecretText

URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.I)
BEARER = re.compile(r"(?P<kind>Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=|-]{6,}", re.I)


def redact_text(text):
    """A string with URL passwords and Authorization credentials replaced by stars."""
    text = URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{STARS}@", text)
    return BEARER.sub(lambda m: f"{m['kind']} {STARS}", text)


class HubExceptionReporterFilter(SafeExceptionReporterFilter):
    """The DEFAULT_EXCEPTION_REPORTER_FILTER: hides secrets whether DEBUG is on or not."""

    cleansed_substitute = STARS
    hidden_settings = _lazy_re_compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|CREDENTIAL|FERNET|SESSION", flags=re.I
    )

    def is_active(self, request):
        return True

    def cleanse_setting(self, key, value):
        if isinstance(value, SecretText):
            return self.cleansed_substitute
        value = super().cleanse_setting(key, value)
        if isinstance(value, str) and value is not self.cleansed_substitute:
            return redact_text(str(value))  # str(): a lazy string (axes settings) proxies isinstance
        return value

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for name in params:
            if self.hidden_settings.search(name):
                params[name] = self.cleansed_substitute
        return params

    def get_traceback_frame_variables(self, request, tb_frame):
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            try:
                value = self.cleanse_setting(name, value)
            except Exception:  # a lazy or odd object that cannot be inspected is not shown at all
                value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed
