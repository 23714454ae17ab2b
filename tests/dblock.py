"""A database file held open by another, real process: a second cfgmon (read-write),
or a notebook or BI tool (read-only)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@contextmanager
def held_by_another_process(db: Path | str, mode: str = "read-write") -> Iterator[subprocess.Popen]:
    """While inside, another process has `db` open, `read-write` or `read-only`."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(db), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
