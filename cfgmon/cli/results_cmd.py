"""`cfgmon results`: show a stored run again, in any format, without running anything."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgmon.cli.common import (
    AccountFilterOption,
    AsffSplitOption,
    DbOption,
    ExitZeroOption,
    OrderedOptionsCommand,
    OutputsOption,
    StatusFilterOption,
    formats_option,
    open_outputs,
    output_targets,
    parse_statuses,
)
from cfgmon.cli.show import check_split_folder, exit_for, show
from cfgmon.controls.history import RECENT_RUNS, load_run, recent_runs
from cfgmon.errors import UsageError
from cfgmon.output import FORMATS, ROW_FORMATS, RenderContext
from cfgmon.output.report_view import prepare
from cfgmon.store import open_database, resolve_db_path
from cfgmon.text import counted


def results(
    ctx: typer.Context,
    run_id: Annotated[
        str | None,
        typer.Argument(metavar="RUN_ID", help="A run id, or its first characters [default: the latest run].",
                       show_default=False),
    ] = None,
    db: DbOption = None,
    formats: formats_option(FORMATS) = None,
    outputs: OutputsOption = None,
    status: StatusFilterOption = None,
    account: AccountFilterOption = None,
    asff_split: AsffSplitOption = None,
    list_runs: Annotated[
        bool, typer.Option("--list", help=f"List the latest {counted(RECENT_RUNS, 'run')} instead.")
    ] = False,
    exit_zero: ExitZeroOption = False,
) -> None:
    """Show the results of a stored `cfgmon check` run again, without running the controls.

    The database is opened read-only and nothing is recorded: one audit stays one row
    set in cfgmon_check_result. Exit codes as for check.

    Example: cfgmon results --format asff --output findings.json --status NON_COMPLIANT
    """
    path = resolve_db_path(db)
    if list_runs:
        if run_id or status or account or asff_split:
            raise UsageError("--list takes no RUN_ID, --status, --account or --asff-split")
        targets = output_targets(ctx, formats, outputs, ROW_FORMATS)
        with open_outputs(targets) as streams:
            runs = _read(path, recent_runs)
            for format_name, out in streams:
                ROW_FORMATS[format_name](runs, RenderContext(title="cfgmon results --list"), out)
        return
    targets = output_targets(ctx, formats, outputs, FORMATS)
    statuses = parse_statuses(status)
    check_split_folder(asff_split)
    with open_outputs(targets) as streams:
        formats = [t.format for t in targets]
        report = _read(path, lambda con: prepare(con, load_run(con, run_id), formats))
        shown = show(report, streams, statuses=statuses, accounts=account or [],
                     asff_split=asff_split, title=f"cfgmon results, run {report.run_id[:8]}")
    exit_for(shown, exit_zero)


def _read(path, read):
    con = open_database(path, read_only=True)
    try:
        return read(con)
    finally:
        con.close()


def register(app: typer.Typer) -> None:
    app.command("results", cls=OrderedOptionsCommand)(results)
