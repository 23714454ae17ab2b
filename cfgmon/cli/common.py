"""Options and helpers shared by several commands, defined once."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from cfgmon.errors import UsageError

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="DuckDB database file [default: $CFGMON_DB or ./cfgmon.duckdb].",
        show_default=False,
    ),
]


@contextlib.contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file opened for writing with a clear error when it cannot be."""
    if path is None:
        yield sys.stdout
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def choice_error(kind: str, value: str, choices) -> UsageError:
    return UsageError(f"unknown {kind} {value!r}; choose one of: {', '.join(choices)}")
