"""`cfgmon check`: run controls over the inventory and print verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import DbOption, choice_error, output_stream
from cfgmon.controls import latest_versions, resolve, run_controls
from cfgmon.controls.runner import RESULT_KEYS
from cfgmon.errors import DatabaseError
from cfgmon.output import FORMATS, RenderContext
from cfgmon.store import open_database, resolve_db_path

# The table is for people: the columns that say what happened; the other formats
# carry every key of a result.
TABLE_COLUMNS = ("account_id", "control", "status", "reason")


def check(
    db: DbOption = None,
    control: Annotated[
        list[str] | None,
        typer.Option("--control", help="Control ID or ID@VERSION; repeatable [default: latest of every control]."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when an account is not compliant.")
    ] = False,
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

    Exit code 0 when every account is COMPLIANT, 1 when any is NON_COMPLIANT or
    INSUFFICIENT_DATA, 2 on bad input.

    Each run is appended to cfgmon_check_result, so check needs the database to
    itself; --no-record runs the controls beside a reader (a notebook, a BI tool).

    Example: cfgmon check --format json --output results.json
    """
    if format not in FORMATS:
        raise choice_error("format", format, FORMATS)
    versions = [resolve(spec) for spec in control] if control else latest_versions()
    path = resolve_db_path(db)
    if not path.exists():
        raise DatabaseError(f"no inventory yet: run cfgmon collect first (no database at {path})")
    with output_stream(output) as out:
        con = open_database(path, read_only=no_record)
        try:
            results = run_controls(con, versions, record=not no_record)
        finally:
            con.close()
        rows = [r.as_dict() | {"control": f"{r.control_id}@{r.control_version}"} for r in results]
        context = RenderContext(
            title="cfgmon check" if format == "table" else None,
            columns=TABLE_COLUMNS if format == "table" else RESULT_KEYS,
            controls={v.ref: v.control.metadata() for v in versions},
            status_column="status",
        )
        FORMATS[format](rows, context, out)
    if not exit_zero and any(r.status != "COMPLIANT" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
