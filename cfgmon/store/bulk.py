"""Inserting many rows at once.

DuckDB's executemany runs one statement per row (about 2 ms each), and a multi-row
VALUES list binds thousands of parameters (about 50 µs a row); a dict of numpy
columns registered as a view is read by DuckDB directly, some 50 times faster
again, so every bulk write goes here. Object arrays keep Python's None, str, bool,
int, float and datetime values as they are; DuckDB casts them to the table's types.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from operator import itemgetter

import duckdb
import numpy as np

_views = itertools.count()


def insert_rows(
    con, table: str, rows: Sequence[Sequence], columns: Sequence[str] | None = None
) -> None:
    """Insert `rows` (value sequences in `columns` order, or the table's) into `table`."""
    if not rows:
        return
    width = len(columns) if columns else len(rows[0])
    # fromiter keeps each value whole (a tuple or list value is not spread into a row)
    source = {
        f"c{i}": np.fromiter(map(itemgetter(i), rows), dtype=object, count=len(rows))
        for i in range(width)
    }
    view = f"cfgmon_bulk_rows_{next(_views)}"
    target = f"{table} ({', '.join(columns)})" if columns else table
    # registering a view is refused while an earlier statement's result is pending
    con.execute("SELECT 1").fetchall()
    con.register(view, source)
    try:
        con.execute(f"INSERT INTO {target} SELECT * FROM {view}")
    finally:
        # a failed insert aborts the caller's transaction, and DuckDB then refuses the
        # unregister too: the insert's own error is the one to see (the view's name is
        # never reused, so one left behind until ROLLBACK is harmless)
        with contextlib.suppress(duckdb.Error):
            con.unregister(view)
