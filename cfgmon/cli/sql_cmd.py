"""`cfgmon sql` and `cfgmon tables`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import (
    DbOption,
    OrderedOptionsCommand,
    OutputsOption,
    formats_option,
    open_outputs,
    output_targets,
)
from cfgmon.errors import UsageError
from cfgmon.output import ROW_FORMATS, RenderContext

FormatsOption = formats_option(ROW_FORMATS)


def sql(
    ctx: typer.Context,
    text: Annotated[
        str | None, typer.Argument(metavar="QUERY", help="SQL to run (or use --file).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read the SQL from this file ('-' for stdin)."),
    ] = None,
    db: DbOption = None,
    formats: FormatsOption = None,
    outputs: OutputsOption = None,
) -> None:
    """Run read-only SQL over the inventory; the last statement's rows are printed.

    The function filter_pattern_matches(pattern, event) evaluates a CloudWatch Logs
    filter pattern against a log event. Statements that would write are refused.

    Example: cfgmon sql "SELECT account_id, name FROM aws_cloudtrail_trail WHERE NOT is_logging"
    """
    from cfgmon.store import query  # sqlglot: imported by the commands that need it

    targets = output_targets(ctx, formats, outputs, ROW_FORMATS)
    sql_text = _read_sql(text, file)
    with open_outputs(targets) as streams:
        result = query.query_database(db, sql_text)
        _render(streams, result.rows, result.columns)


def tables(
    ctx: typer.Context,
    table: Annotated[
        str | None, typer.Argument(help="Show this table's columns instead of the list.")
    ] = None,
    db: DbOption = None,
    formats: FormatsOption = None,
    outputs: OutputsOption = None,
) -> None:
    """List the tables you can query, with their columns and what they hold.

    Without a database file, describes the tables `cfgmon collect` would create.

    Example: cfgmon tables aws_cloudtrail_trail
    """
    from cfgmon.store import query

    targets = output_targets(ctx, formats, outputs, ROW_FORMATS)
    described = query.describe_database(db)
    if table is None:
        rows = [
            {
                "table": t.name,
                "rows": t.rows,
                "description": t.description,
                "columns": ", ".join(c.name for c in t.columns),
            }
            for t in described
        ]
        columns = ["table", "rows", "description", "columns"]
        if all(t.rows is None for t in described):  # no database file: nothing to count
            columns.remove("rows")
            for row in rows:
                del row["rows"]
    else:
        found = query.find_table(described, table)
        rows = [
            {
                "column": c.name,
                "type": c.type,
                "nullable": c.nullable,
                "description": c.description,
            }
            for c in found.columns
        ]
        columns = ["column", "type", "nullable", "description"]
    with open_outputs(targets) as streams:
        _render(streams, rows, columns)


def _render(streams, rows, columns) -> None:
    for format_name, out in streams:
        ROW_FORMATS[format_name](rows, RenderContext(columns=columns), out)


def _read_sql(text: str | None, file: Path | None) -> str:
    if (text is None) == (file is None):
        raise UsageError("give the SQL either as QUERY or with --file, not both or neither")
    if file is None:
        return text
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None


def register(app: typer.Typer) -> None:
    app.command("sql", cls=OrderedOptionsCommand)(sql)
    app.command("tables", cls=OrderedOptionsCommand)(tables)
