"""The one place that knows SQL Server (Sage 500) and Postgres (the emulator) differ.

Procedures: SQL Server `DECLARE @o0 int; EXEC name @o0 OUTPUT, ?, ...; SELECT @o0`; Postgres
`CALL name(NULL, ...)`, where OUTPUT parameters are INOUT and come back as the one result row.
Schema: Postgres resolves unqualified names through search_path; SQL Server through the login's
default schema (then dbo), which only the DBA can set.
"""

from sqlalchemy import text

from connectors.base import ConnectorError

OUT = object()  # marks an output parameter in `call_procedure`'s argument list


def call_procedure(conn, name, args):
    """Call procedure `name` with positional `args`; return the OUT parameters' values in order.

    `name` must already be checked to be an identifier (see options.IDENTIFIER). Every output
    parameter of the procedures the hub calls is an int.
    """
    mssql = conn.dialect.name == "mssql"
    params, placeholders, outputs = {}, [], []
    for position, arg in enumerate(args):
        if arg is OUT:
            variable = f"@o{position}"
            outputs.append(variable)
            placeholders.append(f"{variable} OUTPUT" if mssql else "NULL")
        else:
            params[f"p{position}"] = arg
            placeholders.append(f":p{position}")
    if not mssql:
        result = conn.execute(text(f"CALL {name}({', '.join(placeholders)})"), params)
        return tuple(result.one()) if outputs else ()
    declare = "".join(f"DECLARE {variable} int; " for variable in outputs)
    select = f" SELECT {', '.join(outputs)};" if outputs else ""
    result = conn.execute(text(f"SET NOCOUNT ON; {declare}EXEC {name} {', '.join(placeholders)};{select}"), params)
    return tuple(result.one()) if outputs else ()


def next_surrogate_key(conn, table_name):
    """A new surrogate key for `table_name` from spGetNextSurrogateKey (vendor protocol)."""
    (key,) = call_procedure(conn, "spGetNextSurrogateKey", [table_name, OUT])
    return key


def use_schema(conn, schema):
    """Resolve this transaction's unqualified table and procedure names in `schema` ("" = default)."""
    if not schema or (conn.dialect.name == "mssql" and schema.lower() == "dbo"):
        return
    if conn.dialect.name != "postgresql":
        raise ConnectorError(f"Sage 500 option 'schema' ({schema!r}) works on Postgres only: on SQL Server "
                             "leave it empty and give the SQL login that default schema", permanent=True)
    conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
