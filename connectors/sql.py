"""Small helpers for back offices read by SQL (Dynamics SL, Sage 500) through SQLAlchemy Core.

    engine = engine_for(connection)          # one pooled engine per connection and credentials
    trim(row.CustID)                         # CHAR(n) space padding removed
    money(row.TotOrd)                        # FLOAT money -> Decimal with 2 places
    sql_date(row.ShipDateAct)                # the 1900-01-01 "no date" sentinel -> None

The SQL login is injected into the URL here and nowhere else; log `safe_url(...)`, never the URL.
"""

import datetime as dt
import hashlib
import threading
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url

# SQL Server ERPs store "no date" as 1900-01-01 in NOT NULL datetime columns.
NULL_DATE = dt.datetime(1900, 1, 1)

_engines = {}
_engines_lock = threading.Lock()


def database_url(endpoint, username="", secret=""):
    """The SQLAlchemy URL of `endpoint` with the SQL login set (an empty login keeps the URL's own)."""
    url = make_url(endpoint)
    if username:
        url = url.set(username=username)
    if secret:
        url = url.set(password=secret)
    return url


def django_database_url(settings_dict):
    """The SQLAlchemy (psycopg 3) URL of a Django Postgres database, e.g. `connection.settings_dict`.

    Emulators put their tables in a schema of the hub's own database (or the test database).
    """
    host = settings_dict.get("HOST") or None
    socket_dir = host if host and host.startswith("/") else None  # a Unix socket (the embedded Postgres)
    return URL.create(
        "postgresql+psycopg", username=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None, host=None if socket_dir else host,
        port=int(settings_dict["PORT"]) if settings_dict.get("PORT") else None, database=settings_dict["NAME"],
        query={"host": socket_dir} if socket_dir else {},
    )


def safe_url(endpoint):
    """The endpoint as text with any password masked, for logs and error messages."""
    return make_url(endpoint).render_as_string(hide_password=True)


def engine_for(connection, **engine_options):
    """A cached engine for a BackOfficeConnection; a changed endpoint or login gets a new one."""
    url = database_url(connection.endpoint, connection.username, connection.secret)
    rendered = url.render_as_string(hide_password=False)
    key = (connection.pk, hashlib.sha256(rendered.encode()).hexdigest())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine_options.setdefault("pool_pre_ping", True)
            engine = create_engine(url, **engine_options)
            _engines[key] = engine
        return engine


def dispose_engines():
    """Close every cached engine's pool (tests, or after a database restart)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def trim(value):
    """CHAR(n) text without its space padding; None stays None."""
    return value.rstrip() if isinstance(value, str) else value


def money(value, places=2):
    """A FLOAT amount as a Decimal rounded half-up to `places` (via its shortest repr, so 9.99 stays 9.99)."""
    if value is None:
        return None
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def quantity(value):
    """A FLOAT quantity as a whole number (SL and Sage keep quantities in floats)."""
    return 0 if value is None else int(round(float(value)))


def sql_date(value):
    """A datetime from the database, or None for NULL and the 1900-01-01 sentinel."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return None if value.replace(tzinfo=None) <= NULL_DATE else value
    return None if value <= NULL_DATE.date() else value
