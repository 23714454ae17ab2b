"""Options and helpers shared by several commands, defined once."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO

import typer
from typer.core import TyperCommand

from cfgmon.controls.catalogue import STATUSES
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


# -- output options: --format and --output, in pairs ----------------------------------

FORMAT_PARAM, OUTPUT_PARAM = "formats", "outputs"   # the function parameters that take them
_OPTION_ORDER = "cfgmon.option_order"


def formats_option(choices: Iterable[str]):
    """`--format F` (repeatable), each going to the `--output FILE` that follows it."""
    return Annotated[
        list[str] | None,
        typer.Option(
            "--format", "-f", metavar="FORMAT", show_default=False,
            help=f"Output format: {' | '.join(choices)} [default: table]; repeat it, each "
                 "followed by its own --output, to write several formats of one run.",
        ),
    ]


OutputsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--output", "-o", metavar="FILE", show_default=False,
        help="Write the --format before it to this file instead of stdout.",
    ),
]


class OrderedOptionsCommand(TyperCommand):
    """A command that remembers the order its options were given in (see `output_targets`).

    click collects each option's values separately; which --output follows which
    --format is known only from the command line, read here by click's own parser.
    """

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        ctx.meta[_OPTION_ORDER] = [param.name for param in order]
        return super().parse_args(ctx, args)


@dataclass(frozen=True)
class OutputTarget:
    format: str
    path: Path | None      # None: stdout


def output_targets(
    ctx: typer.Context,
    formats: Sequence[str] | None,
    outputs: Sequence[Path] | None,
    choices: Iterable[str],
) -> list[OutputTarget]:
    """Pair each --output with the --format before it (one given before any --format
    belongs to the first). At most one format goes to stdout; no --format means table."""
    formats, outputs, choices = list(formats or []), list(outputs or []), list(choices)
    for name in formats:
        if name not in choices:
            raise choice_error("format", name, choices)
    order = [n for n in ctx.meta.get(_OPTION_ORDER, []) if n in (FORMAT_PARAM, OUTPUT_PARAM)]
    pairs: list[list] = []
    before_any_format: list[Path] = []
    next_format, next_output = iter(formats), iter(outputs)
    for name in order:
        if name == FORMAT_PARAM:
            pairs.append([next(next_format), None])
            continue
        path = next(next_output)
        if not pairs:
            before_any_format.append(path)
        elif pairs[-1][1] is None:
            pairs[-1][1] = path
        else:
            raise UsageError(f"--format {pairs[-1][0]} has two outputs ({pairs[-1][1]}, {path}); "
                             "give each --output after its own --format")
    if not pairs:
        pairs = [["table", None]]
    if before_any_format:
        if len(before_any_format) > 1 or pairs[0][1] is not None:
            raise UsageError("give each --output after its own --format")
        pairs[0][1] = before_any_format[0]
    to_stdout = [f for f, path in pairs if path is None]
    if len(to_stdout) > 1:
        raise UsageError(f"only one format can go to stdout, not {', '.join(to_stdout)}: "
                         "give the others an --output FILE")
    paths = [path.resolve() for _, path in pairs if path is not None]
    if len(set(paths)) < len(paths):
        raise UsageError("two formats cannot be written to the same --output file")
    return [OutputTarget(f, path) for f, path in pairs]


@contextlib.contextmanager
def open_outputs(targets: Sequence[OutputTarget]) -> Iterator[list[tuple[str, TextIO]]]:
    """(format, stream) for each target; the files are kept only if the command succeeds."""
    with contextlib.ExitStack() as stack:
        yield [(t.format, stack.enter_context(output_stream(t.path))) for t in targets]


# -- narrowing what is shown ---------------------------------------------------------

StatusFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status", metavar="STATUS[,STATUS]", show_default=False,
        help=f"Show only results with these statuses ({', '.join(STATUSES)}); "
             "comma-separated or repeated, any case.",
    ),
]

AccountFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--account", metavar="ID", show_default=False,
        help="Show only results for this account; repeatable.",
    ),
]


AsffSplitOption = Annotated[
    Path | None,
    typer.Option(
        "--asff-split", metavar="DIR", show_default=False,
        help="Also write ASFF findings Security Hub can import: one file per account, region "
             "and 100 findings, and DIR/import.sh with the command for each.",
    ),
]


ExitZeroOption = Annotated[
    bool, typer.Option("--exit-zero", help="Exit 0 even when a result shown is not compliant.")
]


def parse_statuses(values: Sequence[str] | None) -> list[str]:
    """`--status non_compliant,INSUFFICIENT_DATA --status compliant` as known statuses."""
    wanted = []
    for value in values or []:
        for item in value.split(","):
            status = item.strip().upper()
            if not status:
                continue
            if status not in STATUSES:
                raise choice_error("status", item.strip(), STATUSES)
            wanted.append(status)
    return wanted


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
