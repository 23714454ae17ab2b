"""The command line: thin commands over the library.

Only this package imports typer. Every CfgmonError becomes one line on stderr and
exit code 2 here, in `main`, and nowhere else.
"""

from __future__ import annotations

import sys

import typer

from cfgmon.errors import CfgmonError

app = typer.Typer(
    name="cfgmon",
    help="Is every AWS account watched for changes to AWS Config's configuration?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Each command module adds its commands to `app`; one module per command.
from cfgmon.cli import (  # noqa: E402
    check_cmd,
    collect_cmd,
    controls_cmd,
    demo_cmd,
    export_cmd,
    pattern_cmd,
    sql_cmd,
)

for _module in (collect_cmd, check_cmd, sql_cmd, controls_cmd, pattern_cmd, export_cmd, demo_cmd):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cfgmon` script; returns the exit code when not exiting."""
    try:
        app(args=argv, prog_name="cfgmon", standalone_mode=True)
    except CfgmonError as exc:
        print(f"cfgmon: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return 0
