"""The command line: thin commands over the library.

Only this package imports typer. Every CfgmonError becomes one line on stderr and
exit code 2 here, in `main`, and nowhere else; so does every signal, as exit code
128 + its number (see `common` for the exit codes).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cfgmon import __version__, garbage
from cfgmon.cli.common import EXIT_USAGE, SignalGuard
from cfgmon.errors import CfgmonError
from cfgmon.redaction import redact
from cfgmon.store.database import damage_error

app = typer.Typer(
    name="cfgmon",
    help="Is every AWS account really watched for the changes the CIS AWS Foundations Benchmark names?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        print(f"cfgmon {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print cfgmon's version and exit."),
    ] = False,
) -> None:
    """Options of cfgmon itself, before any command."""

# Each command module adds its commands to `app`; one module per command.
from cfgmon.cli import (  # noqa: E402
    check_cmd,
    collect_cmd,
    controls_cmd,
    demo_cmd,
    export_cmd,
    fix_cmd,
    pattern_cmd,
    results_cmd,
    sql_cmd,
)

for _module in (collect_cmd, check_cmd, results_cmd, fix_cmd, sql_cmd, controls_cmd, pattern_cmd,
                export_cmd, demo_cmd):
    _module.register(app)


def script() -> int:
    """The `cfgmon` script and `python -m cfgmon.cli`: main() in a process of its own."""
    try:
        return main()
    finally:
        garbage.spare_at_exit()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cfgmon` script; returns the exit code when not exiting."""
    guard = SignalGuard()
    with guard:
        try:
            app(args=argv, prog_name="cfgmon", standalone_mode=True)
        except BaseException as exc:
            # After a signal, whatever unwinds is its consequence (DuckDB, for one,
            # turns the interruption into its own RuntimeError).
            if guard.received is None:
                error = exc if isinstance(exc, CfgmonError) else damage_error(exc)
                if error is None:
                    raise
                print(f"cfgmon: error: {redact(str(error))}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE) from None
    if guard.received is not None:
        print(f"cfgmon: {guard.message()}", file=sys.stderr)
        raise SystemExit(guard.exit_code())
    return 0
