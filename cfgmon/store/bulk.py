"""Inserting many rows at once, and handing many rows to one statement.

DuckDB's executemany runs one statement per row (about 2 ms each), and a multi-row
VALUES list binds thousands of parameters (about 50 µs a row, and a planner that
slows down as the list grows); a dict of numpy columns registered as a view is read
by DuckDB directly, some 50 times faster again, so every bulk write goes here.
Object arrays keep Python's None, str, bool, int, float and datetime values as they
are; DuckDB casts them to the table's types.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from operator import itemgetter

import duckdb
import numpy as np

_views = itertools.count()

# A subquery over a list of strings bound as one parameter: thousands of ARNs in
# `x IN (BOUND_LIST)` without binding each one.
BOUND_LIST = "SELECT unnest(?::VARCHAR[])"


def insert_rows(
    con, table: str, rows: Sequence[Sequence], columns: Sequence[str] | None = None
) -> None:
    """Insert `rows` (value sequences in `columns` order, or the table's) into `table`."""
    if not rows:
        return
    target = f"{table} ({', '.join(columns)})" if columns else table
    with rows_view(con, rows, len(columns) if columns else None) as view:
        con.execute(f"INSERT INTO {target} SELECT * FROM {view}")


@contextlib.contextmanager
def rows_view(con, rows: Sequence[Sequence], width: int | None = None) -> Iterator[str]:
    """`rows` (value sequences, `width` values each) as a view whose columns are
    c0, c1, ...: its name, for the statements run inside the block."""
    width = len(rows[0]) if width is None else width
    # fromiter keeps each value whole (a tuple or list value is not spread into a row)
    source = {
        f"c{i}": np.fromiter(map(itemgetter(i), rows), dtype=object, count=len(rows))
        for i in range(width)
    }
    view = f"cfgmon_bulk_rows_{next(_views)}"
    # registering a view is refused while an earlier statement's result is pending
    con.execute("SELECT 1").fetchall()
    con.register(view, source)
    try:
        yield view
    finally:
        # a failed statement aborts the caller's transaction, and DuckDB then refuses
        # the unregister too: the statement's own error is the one to see (the view's
        # name is never reused, so one left behind until ROLLBACK is harmless)
        with contextlib.suppress(duckdb.Error):
            con.unregister(view)
