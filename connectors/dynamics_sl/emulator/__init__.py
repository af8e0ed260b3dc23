"""A stand-in for a Dynamics SL site: the SL tables in a Postgres schema, and a Transaction Import runner.

    engine = create_engine(url)
    install(engine)                                    # idempotent
    sl = SLEmulator(engine, company_id="0060")         # seed, ship, inspect
    runner = TIRunner(engine, drop_dir=..., log_dir=..., done_dir=...).start()
"""

from sqlalchemy import text
from sqlalchemy.schema import CreateSchema

from connectors.dynamics_sl.emulator.runner import TIRunner
from connectors.dynamics_sl.emulator.warehouse import SLEmulator
from connectors.dynamics_sl.tables import metadata

DEFAULT_SCHEMA = "dynamics_sl"

__all__ = ["DEFAULT_SCHEMA", "SLEmulator", "TIRunner", "install", "truncate"]


def install(engine, schema=DEFAULT_SCHEMA):
    """Create the schema and the SL tables unless they exist (safe to run again, or twice at once)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"dynamics_sl.install.{schema}"})
        conn.execute(CreateSchema(schema, if_not_exists=True))
        metadata.create_all(conn.execution_options(schema_translate_map={None: schema}))


def truncate(engine, schema=DEFAULT_SCHEMA):
    """Empty every SL table of the schema (tests)."""
    names = ", ".join(f'"{schema}"."{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names}"))
