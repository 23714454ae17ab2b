"""`cfgmon check`: run controls over the inventory and print verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgmon import garbage
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
from cfgmon.controls import framework_id, framework_versions, latest_versions, resolve
from cfgmon.controls.freshness import parse_max_age
from cfgmon.controls.report import run_check
from cfgmon.errors import DatabaseError, UsageError
from cfgmon.output import FORMATS
from cfgmon.output.report_view import prepare
from cfgmon.store import open_database, resolve_db_path
from cfgmon.store.lake import open_lake


def check(
    ctx: typer.Context,
    db: DbOption = None,
    control: Annotated[
        list[str] | None,
        typer.Option("--control", help="Control ID or ID@VERSION; repeatable [default: latest of every control]."),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option("--framework", metavar="F@V",
                     help="Run the controls of one framework version with its events: "
                          "cis-aws@1.2.0 … cis-aws@7.0.0, securityhub."),
    ] = None,
    formats: formats_option(FORMATS) = None,
    outputs: OutputsOption = None,
    status: StatusFilterOption = None,
    account: AccountFilterOption = None,
    asff_split: AsffSplitOption = None,
    exit_zero: ExitZeroOption = False,
    max_age: Annotated[
        str | None,
        typer.Option("--max-age", metavar="DURATION",
                     help="A verdict resting on rows collected longer ago (24h, 7d, 1d12h) "
                          "is INSUFFICIENT_DATA."),
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option(
            "--parquet", metavar="DIR",
            help="Run the controls over a Parquet lake (`cfgmon export --parquet DIR`, "
                 "from one database or from every shard) instead of a database; records "
                 "nothing.",
        ),
    ] = None,
    no_record: Annotated[
        bool,
        typer.Option(
            "--no-record",
            help="Write nothing to the database: no result history, and it is opened "
            "read-only, so another process may be reading it.",
        ),
    ] = False,
) -> None:
    """Run the controls and print one verdict per account.

    Exit code 0 when every result shown is COMPLIANT, 1 when any is NON_COMPLIANT or
    INSUFFICIENT_DATA, 2 on bad input. --status and --account narrow what is shown;
    the whole run is recorded in cfgmon_check_result either way.

    Each run is appended to cfgmon_check_result, so check needs the database to
    itself; --no-record runs the controls beside a reader (a notebook, a BI tool).

    Example: cfgmon check --format json --output results.json --format asff --output findings.json

    Example: cfgmon check --parquet ./lake --format csv
    """
    targets = output_targets(ctx, formats, outputs, FORMATS)
    statuses = parse_statuses(status)
    check_split_folder(asff_split)
    chosen = framework_id(framework) if framework else None
    if control:
        versions = [resolve(spec) for spec in control]
    else:
        versions = framework_versions(chosen) if chosen else latest_versions()
    oldest_allowed = parse_max_age(max_age) if max_age is not None else None
    path = None
    if parquet is not None:
        if db is not None:
            raise UsageError("give --db or --parquet, not both")
    else:
        path = resolve_db_path(db)
        if not path.exists():
            raise DatabaseError(f"no inventory yet: run cfgmon collect first (no database at {path})")
    record = path is not None and not no_record
    with garbage.paused(), open_outputs(targets) as streams:
        con = open_lake(parquet) if path is None else open_database(path, read_only=no_record)
        try:
            report = run_check(con, versions, max_age=oldest_allowed, framework=chosen,
                               record=record)
            report = prepare(con, report, [t.format for t in targets])
        finally:
            con.close()
        shown = show(report, streams, statuses=statuses, accounts=account or [],
                     asff_split=asff_split)
    exit_for(shown, exit_zero)


def register(app: typer.Typer) -> None:
    app.command("check", cls=OrderedOptionsCommand)(check)
