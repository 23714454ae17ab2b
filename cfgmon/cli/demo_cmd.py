"""`cfgmon demo`: see the control work without an AWS account."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import invoked_as
from cfgmon.cli.progress import scope_progress
from cfgmon.controls import latest_versions, run_controls
from cfgmon.output import FORMATS, RenderContext
from cfgmon.store import open_database

DEMO_DB = Path("cfgmon-demo.duckdb")


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
    versions = latest_versions()
    con = open_database(run.db)
    try:
        results = run_controls(con, versions)
    finally:
        con.close()
    rows = [r.as_dict() | {"control": f"{r.control_id}@{r.control_version}"} for r in results]
    stories = {a.account_id: a.story for a in run.accounts}
    for row in rows:
        row["demo account"] = stories.get(row["account_id"], "")
    context = RenderContext(
        title="cfgmon demo: config_configuration_changes_monitoring",
        columns=("account_id", "demo account", "status", "reason"),
        controls={v.ref: v.control.metadata() for v in versions},
        status_column="status",
    )
    FORMATS["table"](rows, context, sys.stdout)
    print(f"\nThe demo database is {run.db.resolve()}. Next, try:")
    for command in next_commands(run.db, invoked_as()):
        print(f"  {command}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
