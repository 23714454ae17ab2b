"""Reading a Parquet lake (`cfgmon export --parquet DIR`, from one database or many
shards) as an inventory: an in-memory DuckDB whose collected tables are views over
the lake's files.

Every table of schema.sql is created empty in memory, then each collected table (and
each optional one the lake holds) is replaced by a view that reads all its files under DIR/<table>/ (the shards' account
folders together) with the schema's column types. The derived and history tables
stay empty tables of the in-memory database: a check derives its own and records
nothing, and the lake is never written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cfgmon.errors import DatabaseError
from cfgmon.store.database import schema_sql
from cfgmon.store.scope import SERVICE_TABLES

# The tables a lake must hold: the inventory and what was collected when.
COLLECTED_TABLES: tuple[str, ...] = (
    "cfgmon_account",
    "cfgmon_collection",
    *(table for tables in SERVICE_TABLES.values() for table in tables),
)
# Collected tables a lake exported by an earlier cfgmon lacks: read when there, an
# empty table otherwise (cfgmon_account_region: the regions fall back to those collected).
OPTIONAL_TABLES: tuple[str, ...] = ("cfgmon_account_region",)
EXPORT_HINT = "export one with `cfgmon export --parquet DIR`"


def open_lake(directory: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database over the lake at `directory`; DatabaseError when it is not one."""
    directory = Path(directory)
    if not directory.is_dir():
        what = "a file, not a folder" if directory.exists() else "no such folder"
        raise DatabaseError(f"no Parquet lake at {directory} ({what}): {EXPORT_HINT}")
    missing = [table for table in COLLECTED_TABLES if not _files(directory, table)]
    if len(missing) == len(COLLECTED_TABLES):
        raise DatabaseError(
            f"{directory} is not a cfgmon Parquet lake (it has no {COLLECTED_TABLES[0]}/ "
            f"folder of Parquet files): {EXPORT_HINT}"
        )
    if missing:
        raise DatabaseError(
            f"the Parquet lake {directory} has no table {missing[0]} (no Parquet files under "
            f"{directory / missing[0]}/); export into it again with this version of cfgmon"
        )
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        for table in COLLECTED_TABLES:
            _view(con, directory, table)
        for table in OPTIONAL_TABLES:
            if _files(directory, table):
                _view(con, directory, table)
    except BaseException:
        con.close()
        raise
    return con


def _files(directory: Path, table: str) -> bool:
    folder = directory / table
    return folder.is_dir() and next(folder.glob("**/*.parquet"), None) is not None


def _view(con: duckdb.DuckDBPyConnection, directory: Path, table: str) -> None:
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
        "ORDER BY column_index", [table],
    ).fetchall()
    selected = ", ".join(f'CAST("{name}" AS {data_type}) AS "{name}"' for name, data_type in columns)
    files = str(directory / table / "**" / "*.parquet").replace("'", "''")
    con.execute(f"DROP TABLE {table}")
    try:
        # account folders carry no column of their own: the files keep account_id
        con.execute(
            f"CREATE VIEW {table} AS SELECT {selected} FROM "
            f"read_parquet('{files}', hive_partitioning = false, union_by_name = true)"
        )
        con.execute(f"SELECT * FROM {table} LIMIT 0").fetchall()
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise DatabaseError(
            f"cannot read table {table} of the Parquet lake {directory}: {message}"
        ) from None
