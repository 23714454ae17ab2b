"""A rich table for people; colours only when the output is a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cfgmon.output.csv_format import cell

STATUS_STYLES = {
    "COMPLIANT": "bold green",
    "NON_COMPLIANT": "bold red",
    "INSUFFICIENT_DATA": "bold yellow",
}


def render(rows, context, out) -> None:
    rows = list(rows)
    columns = list(context.columns or (rows[0].keys() if rows else []))
    table = Table(title=context.title, show_lines=bool(context.status_column))
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = []
        for column in columns:
            text = str(cell(row.get(column)))
            style = STATUS_STYLES.get(text) if column == context.status_column else None
            cells.append(Text(text, style=style or ""))
        table.add_row(*cells)
    console = Console(file=out, width=None if out.isatty() else 200, soft_wrap=False)
    console.print(table)
    if not rows:
        console.print("(no rows)")
