"""Reading a cfgmon database in tests: rows as dicts."""

from __future__ import annotations

from pathlib import Path

import duckdb


def query_rows(db: Path | str, sql: str, params=()) -> list[dict]:
    """Run `sql` read-only on the database file and return its rows as dicts."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def sorted_rows(db: Path | str, table: str, columns: str = "* EXCLUDE (collected_at)") -> list[tuple]:
    """`columns` of every row of `table`, in a fixed order: to compare two collections."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted(con.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


def table_counts(db: Path | str) -> dict[str, int]:
    """Row count of every table in the database file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
    finally:
        con.close()
