"""One transaction helper for every write: BEGIN, then COMMIT, or ROLLBACK on any error."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def transaction(con):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
