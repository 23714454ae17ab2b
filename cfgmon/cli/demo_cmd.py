"""`cfgmon demo`: see the control work without an AWS account."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import invoked_as
from cfgmon.cli.progress import scope_progress
from cfgmon.controls import latest_versions
from cfgmon.controls.report import run_check
from cfgmon.output.report_view import render_matrix, render_report, summary_line
from cfgmon.store import open_database

DEMO_DB = Path("cfgmon-demo.duckdb")
# Each demo account tells its story with this control; the matrix shows the family.
STORY_CONTROL = "config_configuration_changes_monitoring"


def demo(
    db: Annotated[
        Path, typer.Option("--db", help="Where the demo writes its database (replaced if present).")
    ] = DEMO_DB,
) -> None:
    """Build simulated AWS accounts that show each verdict, collect them and run the control.

    Needs no AWS account and no network: moto simulates AWS inside this process.

    Example: cfgmon demo --db /tmp/demo.duckdb
    """
    from cfgmon.demo import build_and_collect, next_commands

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    with scope_progress() as progress:
        run = build_and_collect(db, progress=progress, say=say)
    con = open_database(run.db)
    try:
        report = run_check(con, latest_versions())
    finally:
        con.close()
    stories = {a.account_id: a.story for a in run.accounts}
    config = report.only(STORY_CONTROL)
    render_report(config, "table", sys.stdout, title="cfgmon demo",
                  extra={"demo account": stories})
    print()
    render_matrix(report, sys.stdout, title="The CIS monitoring family, by account")
    print(summary_line(report))
    print(f"\nThe demo database is {run.db.resolve()}. Next, try:")
    for command in next_commands(run.db, invoked_as()):
        print(f"  {command}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
