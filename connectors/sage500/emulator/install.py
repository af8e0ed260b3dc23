"""Installing the emulator into a Postgres database: DDL, then the PL/pgSQL procedures."""

import re
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

SCHEMA = "sage500"
HERE = Path(__file__).parent
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked(schema):
    if not SCHEMA_NAME.match(schema):
        raise ValueError(f"emulator schema name must be a lower-case identifier, not {schema!r}")
    return schema


def emulator_engine(url, schema=SCHEMA):
    """An engine on the Postgres database at `url` whose unqualified names resolve in `schema`."""
    return create_engine(make_url(url).update_query_dict({"options": f"-csearch_path={checked(schema)}"}))


def install(engine, schema=SCHEMA):
    """Create (or bring up to date) the emulator's schema, tables and procedures; safe to repeat."""
    schema = checked(schema)
    with engine.begin() as conn:
        # Several installers at once (parallel test runs) would race on CREATE ... IF NOT EXISTS.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('sage500 emulator install'))")
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
        driver = conn.connection.driver_connection  # the SQL files hold % signs: no parameter parsing
        for name in ("schema.sql", "procedures.sql", "gl_procedures.sql"):
            driver.execute((HERE / name).read_text())
