"""`cfgmon fix`: the commands that repair each NON_COMPLIANT result's broken link."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cfgmon.cli.common import DbOption, choice_error
from cfgmon.controls.history import load_run
from cfgmon.errors import UsageError
from cfgmon.remediation import DEFAULT_EMAIL, aws_cli, plan_fixes, terraform
from cfgmon.store import open_database, resolve_db_path
from cfgmon.text import counted

RENDERERS = {"cli": aws_cli.render_plans, "terraform": terraform.render_plans}


def fix(
    run_id: Annotated[
        str | None,
        typer.Argument(metavar="RUN_ID", help="A stored run id, or its first characters "
                       "[default: the latest run].", show_default=False),
    ] = None,
    db: DbOption = None,
    account: Annotated[
        list[str] | None,
        typer.Option("--account", metavar="ID", show_default=False,
                     help="Only this account's fixes; repeatable."),
    ] = None,
    control: Annotated[
        list[str] | None,
        typer.Option("--control", metavar="ID", show_default=False,
                     help="Only this control's fixes; repeatable."),
    ] = None,
    format_name: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="cli | terraform.")
    ] = "cli",
    email: Annotated[
        str, typer.Option("--email", metavar="ADDRESS",
                          help="Who a new SNS subscription notifies.")
    ] = DEFAULT_EMAIL,
) -> None:
    """Print the AWS CLI commands (or Terraform) that fix each NON_COMPLIANT result.

    Reads the latest stored `cfgmon check` run (or RUN_ID) and the inventory in the
    database, read-only; it never runs the controls (run cfgmon check first) and never
    runs the fixes: they are suggestions to review before applying. Each fix repairs
    the first broken link of the result's chain, in the account's own names.

    Example: cfgmon fix --account 222222222222 --format terraform > fix.tf
    """
    if format_name not in RENDERERS:
        raise choice_error("format", format_name, RENDERERS)
    con = open_database(resolve_db_path(db), read_only=True)
    try:
        report = load_run(con, run_id)
        _check_known(report.accounts, account, "account")
        _check_known(sorted({r.control_id for r in report.results}), control, "control")
        chosen = [r for r in report.results
                  if (not account or r.account_id in account)
                  and (not control or r.control_id in control)]
        plans = [p for p in plan_fixes(con, chosen, email=email).values() if p.steps or p.notes]
    finally:
        con.close()
    if not plans:
        print(f"nothing to fix: no NON_COMPLIANT result in run {report.run_id[:8]} "
              "among those chosen", file=sys.stderr)
        return
    sys.stdout.write(RENDERERS[format_name](plans))
    print(f"{counted(len(plans), 'fix', 'fixes')} for run {report.run_id[:8]}: review them "
          "before applying", file=sys.stderr)


def _check_known(known: list[str], wanted: list[str] | None, kind: str) -> None:
    missing = sorted(set(wanted or ()) - set(known))
    if missing:
        raise UsageError(f"no result for {kind} {', '.join(missing)} in this run")


def register(app: typer.Typer) -> None:
    app.command("fix")(fix)
