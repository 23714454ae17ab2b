"""A rich table for people; colours only when the output is a terminal."""

from __future__ import annotations

import os

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cfgmon.output.csv_format import cell

STATUS_STYLES = {
    "COMPLIANT": "bold green",
    "NON_COMPLIANT": "bold red",
    "INSUFFICIENT_DATA": "bold yellow",
    "NOT_APPLICABLE": "dim",
    # the short words of the family matrix
    "pass": "bold green", "FAIL": "bold red", "?": "bold yellow", "n/a": "dim",
}
# Wide enough that no row of a pipe or file is ever wrapped.
UNWRAPPED_WIDTH = 100_000


def render(rows, context, out) -> None:
    rows = list(rows)
    columns = list(context.columns or (rows[0].keys() if rows else []))
    table = Table(title=context.title, show_lines=bool(context.status_column))
    for column in columns:
        if context.wrap_columns is None:
            table.add_column(column, overflow="fold")
        elif column in context.wrap_columns:
            table.add_column(column, overflow="fold", ratio=context.wrap_columns[column])
        else:  # short values (ids, statuses) stay on one line; the wrap columns share the rest
            table.add_column(column, no_wrap=True)
    for row in rows:
        cells = []
        for column in columns:
            text = str(cell(row.get(column)))
            coloured = context.status_column in (column, "*")  # "*": every status cell
            style = STATUS_STYLES.get(text) if coloured else None
            cells.append(Text(text, style=style or ""))
        table.add_row(*cells)
    console = Console(file=out, width=width(out), soft_wrap=False)
    if context.wrap_columns and console.measure(table).maximum >= console.width:
        table.expand = True  # too wide: the wrap columns share the width by their ratios
    console.print(table)
    if not rows and context.footer is None:
        console.print("(no rows)")
    if context.footer is not None:
        console.print(Text(context.footer))


def width(out) -> int | None:
    """$COLUMNS when set; else a terminal's own width; else (a pipe, a file) no wrapping.

    Piped output goes to grep, files and `less -S`, where one line per row serves
    better than a guess at a width nobody asked for.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if out.isatty() else UNWRAPPED_WIDTH
