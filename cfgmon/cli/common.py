"""Options and helpers shared by several commands, defined once."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from cfgmon.errors import Interrupted, UsageError

# Exit codes, the same for every command:
EXIT_OK = 0
EXIT_NOT_ALL_OK = 1  # check: an account is not COMPLIANT; collect: the collection is partial
EXIT_USAGE = 2       # bad usage or input, an unusable database, no credentials: one line on stderr
EXIT_SIGNAL_BASE = 128  # + the signal number: 130 for SIGINT, 143 for SIGTERM
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

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
    """stdout, or a file opened for writing with a clear error when it cannot be.

    The file is written beside its destination and moved into place only when the
    command succeeds: a run that fails (a locked database, say) leaves the previous
    file as it was.
    """
    if path is None:
        yield sys.stdout
        return
    if path.is_dir():
        raise UsageError(f"cannot write {path}: Is a directory")
    if path.exists() and not path.is_file():
        # /dev/null, /dev/stdout, a FIFO: write to it; moving a file onto it would
        # replace the device itself (as root, /dev/null became a regular file).
        try:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                yield handle
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    temporary = path.with_name(f".{path.name}.cfgmon-{os.getpid()}.tmp")
    try:
        handle = open(temporary, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def invoked_as() -> str:
    """How to run this cfgmon again from the current folder, for commands we suggest.

    `cfgmon` when that name on the PATH is this very program; otherwise the path it
    was started by (`.venv/bin/cfgmon` after `make demo`), or `python -m cfgmon.cli`.
    """
    started = sys.argv[0] if sys.argv and sys.argv[0] else "cfgmon"
    if os.path.basename(started) == "__main__.py":
        return f"{shlex.quote(os.path.relpath(sys.executable))} -m cfgmon.cli"
    on_path = shutil.which("cfgmon")
    with contextlib.suppress(OSError):
        if on_path and os.path.exists(started) and os.path.samefile(on_path, started):
            return "cfgmon"
    if os.path.isabs(started):
        relative = os.path.relpath(started)
        if not relative.startswith(".."):
            started = relative if os.sep in relative else f".{os.sep}{relative}"
    return shlex.quote(started)


def choice_error(kind: str, value: str, choices) -> UsageError:
    return UsageError(f"unknown {kind} {value!r}; choose one of: {', '.join(choices)}")


class SignalGuard:
    """While active, SIGINT and SIGTERM raise cfgmon's Interrupted in the main thread.

    The first signal unwinds the command (committed work stays, see the collector);
    a second one exits at once, which DuckDB's write-ahead log also survives.
    `received` remembers the first signal even if a library swallows the exception.
    """

    def __init__(self) -> None:
        self.received: Interrupted | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, _frame) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            sys.stderr.write(f"cfgmon: {name} again; exiting now\n")
            sys.stderr.flush()
            os._exit(EXIT_SIGNAL_BASE + signum)
        self.received = Interrupted(signum, name)
        raise self.received

    def message(self) -> str:
        return f"interrupted by {self.received.name}; work committed before it is kept"

    def exit_code(self) -> int:
        return EXIT_SIGNAL_BASE + self.received.signum
