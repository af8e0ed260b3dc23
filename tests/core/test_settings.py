import subprocess
import sys

from django.conf import settings


def test_database_is_postgres():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_production_without_secrets_fails_with_a_clear_message():
    env = {"HUB_DEBUG": "0", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "integration_hub.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True, text=True, env=env, cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "HUB_SECRET_KEY, HUB_CREDENTIALS_KEYS, HUB_BUYER_DATA_KEYS must be set" in result.stderr


def test_sqlite_is_refused():
    env = {"HUB_DEBUG": "1", "DATABASE_URL": "sqlite:///x.db", "PATH": "/usr/bin:/bin",
           "DJANGO_SETTINGS_MODULE": "integration_hub.settings"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"],
                            capture_output=True, text=True, env=env, cwd=settings.BASE_DIR)
    assert "only engine the hub supports" in result.stderr


def test_server_side_binding_is_refused_at_start_not_at_the_first_confirmation():
    env = {"HUB_DEBUG": "1", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x?server_side_binding=true"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"],
                            capture_output=True, text=True, env=env, cwd=settings.BASE_DIR)
    assert result.returncode != 0 and "server_side_binding must stay off" in result.stderr
