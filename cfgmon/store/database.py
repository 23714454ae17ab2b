"""Opening the DuckDB file: path resolution, schema creation, clear errors."""

from __future__ import annotations

import datetime as dt
import functools
import os
from importlib import resources
from pathlib import Path

import duckdb

from cfgmon.errors import DatabaseError

DEFAULT_DB = "cfgmon.duckdb"
SCHEMA_VERSION = 1


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """--db, else $CFGMON_DB, else ./cfgmon.duckdb."""
    return Path(db or os.environ.get("CFGMON_DB") or DEFAULT_DB)


def schema_sql() -> str:
    return resources.files("cfgmon.store").joinpath("schema.sql").read_text(encoding="utf-8")


def utc_now() -> dt.datetime:
    """Naive UTC timestamp, the form every TIMESTAMP column holds."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def open_database(db: str | os.PathLike | None = None, *, read_only: bool = False):
    """Open (and for writers, create and migrate) the inventory database.

    Read-only opening of a file that does not exist is an error rather than
    silently creating an empty database.
    """
    path = resolve_db_path(db)
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a cfgmon database file")
    if read_only and not path.exists():
        raise DatabaseError(f"no database at {path}: run `cfgmon collect` first (or pass --db)")
    if not read_only and not path.parent.exists():
        raise DatabaseError(f"cannot create {path}: folder {path.parent} does not exist")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise DatabaseError(
                f"database {path} is in use by another cfgmon process"
            ) from None
        raise DatabaseError(f"cannot open {path}: {_first_line(text)}") from None
    except duckdb.Error as exc:
        raise DatabaseError(
            f"{path} is not a readable DuckDB database: {_first_line(str(exc))}"
        ) from None
    if not read_only:
        _ensure_schema(con)
    return con


def _ensure_schema(con) -> None:
    con.execute(schema_sql())
    current = con.execute("SELECT max(version) FROM cfgmon_schema").fetchone()[0]
    if current is None:
        con.execute("INSERT INTO cfgmon_schema VALUES (?, ?)", [SCHEMA_VERSION, utc_now()])


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


@functools.cache
def schema_tables() -> tuple[str, ...]:
    """The tables schema.sql defines, read from the file itself."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        ).fetchall()
    finally:
        con.close()
    return tuple(r[0] for r in rows)
