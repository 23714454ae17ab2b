"""`cfgmon sql` and `cfgmon tables`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgmon.cli.common import DbOption, choice_error
from cfgmon.errors import UsageError
from cfgmon.output import ROW_FORMATS, RenderContext
from cfgmon.store import query

FormatOption = Annotated[
    str,
    typer.Option("--format", "-f", help=f"Output format: {' | '.join(ROW_FORMATS)}."),
]


def sql(
    text: Annotated[
        str | None, typer.Argument(metavar="QUERY", help="SQL to run (or use --file).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read the SQL from this file ('-' for stdin)."),
    ] = None,
    db: DbOption = None,
    output_format: FormatOption = "table",
) -> None:
    """Run read-only SQL over the inventory; the last statement's rows are printed.

    The function filter_pattern_matches(pattern, event) evaluates a CloudWatch Logs
    filter pattern against a log event. Statements that would write are refused.

    Example: cfgmon sql "SELECT account_id, name FROM aws_cloudtrail_trail WHERE NOT is_logging"
    """
    render = _renderer(output_format)
    result = query.query_database(db, _read_sql(text, file))
    render(result.rows, RenderContext(columns=result.columns), sys.stdout)


def tables(
    table: Annotated[
        str | None, typer.Argument(help="Show this table's columns instead of the list.")
    ] = None,
    db: DbOption = None,
    output_format: FormatOption = "table",
) -> None:
    """List the tables you can query, with their columns and what they hold.

    Without a database file, describes the tables `cfgmon collect` would create.

    Example: cfgmon tables aws_cloudtrail_trail
    """
    render = _renderer(output_format)
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
    render(rows, RenderContext(columns=columns), sys.stdout)


def _renderer(name: str):
    try:
        return ROW_FORMATS[name]
    except KeyError:
        raise choice_error("format", name, ROW_FORMATS) from None


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
    app.command("sql")(sql)
    app.command("tables")(tables)
