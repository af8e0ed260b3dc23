"""Production settings: `check --deploy` clean, static files served by the app, API docs without a
CDN and behind sign-in, no password reset unless e-mail is set up for it."""

import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

pytestmark = pytest.mark.django_db


def production_env(**extra):
    return {
        "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "integration_hub.settings", "HUB_DEBUG": "0",
        "HUB_SECRET_KEY": secrets.token_urlsafe(64), "HUB_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "HUB_BUYER_DATA_KEYS": Fernet.generate_key().decode(),
        "HUB_ALLOWED_HOSTS": "hub.example.com", "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL, **extra,
    }


def test_production_settings_pass_check_deploy():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            capture_output=True, text=True, env=production_env(), cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_serves_collected_static_files_itself(tmp_path):
    """What gunicorn runs (the WSGI app) serves the hashed, compressed files collectstatic made."""
    script = """
import django
django.setup()
from django.core.management import call_command
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
call_command("collectstatic", "--noinput", verbosity=0)
for name in ("hub.css", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"):
    url = staticfiles_storage.url(name)
    response = Client().get(url, secure=True, HTTP_HOST="hub.example.com", HTTP_ACCEPT_ENCODING="gzip")
    print("|".join([url, str(response.status_code), str(response.headers.get("Content-Encoding")),
                    str(response.headers.get("Cache-Control"))]))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=settings.BASE_DIR,
                            env=production_env(HUB_STATIC_ROOT=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    served = [line.split("|") for line in result.stdout.splitlines() if line.startswith("/static/")]
    assert len(served) == 2
    for url, status, encoding, cache in served:
        assert url.count(".") >= 2 and not url.endswith(("/hub.css", "/swagger-ui-bundle.js"))  # hashed names
        assert (status, encoding) == ("200", "gzip") and "max-age" in cache, url


def test_api_schema_and_docs_need_sign_in(client, ops_user):
    assert client.get("/api/schema/").status_code in (401, 403)
    response = client.get("/api/docs/")
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(ops_user)
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page and "unpkg" not in page


def test_password_reset_is_off_unless_enabled(client):
    for url in ("/accounts/password_reset/", "/accounts/reset/done/"):
        assert client.get(url).status_code == 404
    assert client.get("/accounts/login/").status_code == 200


def test_production_requires_a_second_factor_of_admins_by_default():
    script = "import django; django.setup(); from django.conf import settings; print(settings.REQUIRE_2FA_FOR_ADMINS)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=production_env(), cwd=settings.BASE_DIR)
    assert result.stdout.strip() == "True", result.stderr
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=production_env(HUB_REQUIRE_2FA_FOR_ADMINS="0"), cwd=settings.BASE_DIR)
    assert result.stdout.strip() == "False", result.stderr
