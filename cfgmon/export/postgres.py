"""Every table loaded into a schema of a PostgreSQL database, in one transaction.

Column types come from DuckDB's catalogue through one mapping (JSON and nested
types become jsonb). A table already there with the same columns is truncated and
reloaded, which keeps views, grants and BI metadata built on it; a table whose
columns changed is dropped and created again. Data goes in with COPY.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb

from cfgmon.errors import DatabaseError, UsageError
from cfgmon.export.files import ExportedTable, ExportResult

if TYPE_CHECKING:
    from cfgmon.store.query import TableInfo

DEFAULT_SCHEMA = "cfgmon"
BATCH_ROWS = 10_000

# DuckDB type → PostgreSQL type. Unsigned types widen so every value fits.
POSTGRES_TYPES: dict[str, str] = {
    "VARCHAR": "text",
    "JSON": "jsonb",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "UHUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
}

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_NESTED = re.compile(r"(\[\d*\]$)|^(STRUCT|MAP|UNION)\(")


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one; unknown types travel as text."""
    upper = duckdb_type.upper()
    if upper in POSTGRES_TYPES:
        return POSTGRES_TYPES[upper]
    decimal = _DECIMAL.fullmatch(upper)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if _NESTED.search(upper):
        return "jsonb"
    return "text"


def export_postgres(
    con: duckdb.DuckDBPyConnection, dsn: str, schema: str = DEFAULT_SCHEMA
) -> ExportResult:
    """Load every table of `con` into `schema` of the PostgreSQL database at `dsn`."""
    psycopg = _psycopg()
    from cfgmon.store.query import describe_tables  # sqlglot: not at start-up

    tables = describe_tables(con)
    try:
        pg = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.ProgrammingError as exc:  # a malformed DSN
        raise UsageError(f"bad PostgreSQL DSN: {_pg_message(exc)}") from None
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {_pg_message(exc)}") from None
    location = _where(pg, schema)
    try:
        with pg, pg.cursor() as cur:  # one transaction: commits at the end, or rolls back
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
            for table in tables:
                _prepare_table(cur, schema, table)
                _copy_rows(con, cur, schema, table)
    except psycopg.Error as exc:
        raise DatabaseError(f"PostgreSQL export failed: {_pg_message(exc)}") from None
    finally:
        pg.close()
    return ExportResult(
        location, [ExportedTable(t.name, t.rows, False, f"{schema}.{t.name}") for t in tables]
    )


def _prepare_table(cur, schema: str, table: TableInfo) -> None:
    """An empty table of the right shape: truncated when its columns match, else recreated."""
    qualified = f"{_ident(schema)}.{_ident(table.name)}"
    columns = [
        f"{_ident(c.name)} {postgres_type(c.type)}{'' if c.nullable else ' NOT NULL'}"
        for c in table.columns
    ]
    if table.primary_key:
        columns.append(f"PRIMARY KEY ({', '.join(_ident(c) for c in table.primary_key)})")
    definition = ", ".join(columns)
    cur.execute("SELECT to_regclass(%s)", [qualified])
    if cur.fetchone()[0] is not None:
        # Let PostgreSQL normalise the wanted types, then compare them with what is there.
        cur.execute(f"CREATE TEMP TABLE cfgmon_wanted ({definition}) ON COMMIT DROP")
        same = _shape(cur, "pg_temp.cfgmon_wanted") == _shape(cur, qualified)
        cur.execute("DROP TABLE pg_temp.cfgmon_wanted")
        if same:
            cur.execute(f"TRUNCATE {qualified}")
            return
        cur.execute(f"DROP TABLE {qualified}")
    cur.execute(f"CREATE TABLE {qualified} ({definition})")


def _shape(cur, relation: str) -> list[tuple]:
    cur.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [relation],
    )
    return cur.fetchall()


def _copy_rows(con: duckdb.DuckDBPyConnection, cur, schema: str, table: TableInfo) -> None:
    names = ", ".join(_ident(c.name) for c in table.columns)
    with cur.copy(f"COPY {_ident(schema)}.{_ident(table.name)} ({names}) FROM STDIN") as copy:
        for row in _rows(con, table):
            copy.write_row(row)


def _rows(con: duckdb.DuckDBPyConnection, table: TableInfo) -> Iterator[tuple[Any, ...]]:
    selected = []
    for c in table.columns:
        if postgres_type(c.type) == "jsonb" and c.type.upper() != "JSON":
            selected.append(f"to_json({_ident(c.name)})::VARCHAR")  # lists, structs, maps
        elif postgres_type(c.type) == "text" and c.type.upper() != "VARCHAR":
            selected.append(f"{_ident(c.name)}::VARCHAR")
        else:
            selected.append(_ident(c.name))
    cursor = con.cursor()
    try:
        cursor.execute(f"SELECT {', '.join(selected)} FROM {_ident(table.name)}")
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield from batch
    finally:
        cursor.close()


def _where(pg, schema: str) -> str:
    """Where the tables went, without the password a DSN may hold."""
    info = pg.info
    return f"schema {schema} of postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise UsageError(
            "exporting to PostgreSQL needs psycopg: pip install 'cfgmon[postgres]'"
        ) from None
    return psycopg


def _pg_message(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
