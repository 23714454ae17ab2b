"""`cfgmon controls`: the catalogue of controls, one version's SQL and metadata, transpiling."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cfgmon.cli.common import choice_error
from cfgmon.controls import framework_id, load_catalogue, resolve
from cfgmon.dialects import DIALECTS
from cfgmon.output import ROW_FORMATS, RenderContext
from cfgmon.output.json_format import dumps
from cfgmon.text import counted

controls_app = typer.Typer(help="List, show and transpile the packaged controls.", no_args_is_help=True)


@controls_app.command("list")
def list_controls(
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    framework: Annotated[
        str | None,
        typer.Option("--framework", metavar="F@V",
                     help="Only the controls of this framework version, with its requirement ids."),
    ] = None,
) -> None:
    """List the controls, their versions and frameworks.

    Example: cfgmon controls list --framework cis-aws@5.0.0
    """
    if format not in ROW_FORMATS:
        raise choice_error("format", format, ROW_FORMATS)
    chosen = framework_id(framework) if framework else None
    rows = []
    for control in load_catalogue().values():
        if chosen and chosen not in control.framework_ids:
            continue
        row = {"id": control.id}
        if chosen:
            row["requirement"] = ", ".join(
                sorted({f["requirement"] for f in control.requirements_of(chosen)}))
            row["requirement_title"] = control.requirements_of(chosen)[0]["title"]
        frameworks = sorted({f"{f['framework']} {f['requirement']}" for f in control.frameworks})
        row |= {
            "latest": control.latest.version,
            "versions": ", ".join(control.metadata()["versions"]),
            "severity": control.severity,
            "title": control.title,
            "frameworks": "; ".join(frameworks),
        }
        rows.append(row)
    if chosen:
        rows.sort(key=lambda r: [int(p) if p.isdigit() else p
                                 for p in r["requirement"].replace(".", " ").split()])
    ROW_FORMATS[format](rows, RenderContext(title="cfgmon controls"), sys.stdout)


@controls_app.command("show")
def show(
    control: Annotated[str, typer.Argument(help="ID or ID@VERSION.")],
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show a control version's metadata, event catalogue size and SQL.

    Example: cfgmon controls show config_configuration_changes_monitoring@1
    """
    version = resolve(control)
    meta = version.control.metadata() | {
        "version": version.version,
        "released": version.released,
        "notes": version.notes,
        "catalogue_events": [e.label for e in version.matches],
        "sql": version.sql,
    }
    if format == "json":
        print(dumps(meta, indent=2))
        return
    if format != "text":
        raise choice_error("format", format, ("text", "json"))
    lines = [
        f"{version.ref}: {meta['title']}",
        f"severity: {meta['severity']}    released: {version.released}",
        "",
        meta["description"],
        "",
        "Rationale: " + meta["rationale"],
        "",
        "Frameworks:",
        *(f"  - {f['framework']} {f['version']} {f['requirement']}: {f['title']}" for f in meta["frameworks"]),
        "",
        "Remediation:",
        *(f"  {i}. {step}" for i, step in enumerate(meta["remediation"], 1)),
        "",
        f"Reference pattern: {meta['reference_pattern']}",
        f"Event catalogue: {counted(len(version.matches), 'record')} that a covering filter "
        "must match",
        *(f"  - {label}" for label in meta["catalogue_events"]),
        "",
        f"-- SQL ({version.control.folder.name}/v{version.version}.sql)",
        version.sql.rstrip(),
    ]
    print("\n".join(lines))


@controls_app.command("transpile")
def transpile_control(
    control: Annotated[str, typer.Argument(help="ID or ID@VERSION.")],
    dialect: Annotated[str, typer.Option("--dialect", "-d", help=f"One of: {', '.join(DIALECTS)}.")],
) -> None:
    """Print a control's SQL in another engine's dialect (sqlglot).

    The query reads the same tables, so run it where `cfgmon export` put them. For a
    control of a chain that judges many controls, it is the chain's query: it judges
    every control the last `cfgmon check` bound, each row naming its control_id. For
    spark it is a script: the steps read more than once become tables of their own.

    Example: cfgmon controls transpile config_configuration_changes_monitoring --dialect postgres
    """
    from cfgmon.sqlport import transpile  # sqlglot: only this command needs it

    print(transpile(resolve(control).sql, dialect))


def register(app: typer.Typer) -> None:
    app.add_typer(controls_app, name="controls")
