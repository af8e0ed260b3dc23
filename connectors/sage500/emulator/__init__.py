"""A Sage 500 emulator in Postgres: the tables in a schema of their own and the API procedures in PL/pgSQL.

    engine = emulator_engine(database_url)   # search_path = the emulator's schema
    install(engine)                          # idempotent: schema, tables, procedures
    sage = Sage500Emulator(engine)
    sage.setup_company(); sage.add_item("WIDGET", on_hand=10); sage.ship("202-...", packages)

The connector reaches it with the database's URL as endpoint and the option "schema": "sage500".
"""

from connectors.sage500.emulator.handle import Sage500Emulator
from connectors.sage500.emulator.install import SCHEMA, emulator_engine, install

__all__ = ["SCHEMA", "Sage500Emulator", "emulator_engine", "install"]
