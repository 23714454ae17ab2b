"""Output formats: one module per format, each a `render(rows, context, out)` function.

`check` and `sql` share this one table, so a format is added in one place.
Row formats (table, json, csv) render any list of dicts; finding formats (ocsf,
asff, junit) need control results and are offered only by `check`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from cfgmon.output import (
    asff_format,
    csv_format,
    html_format,
    json_format,
    junit_format,
    ocsf_format,
    table_format,
)

Row = dict[str, Any]


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may need besides the rows."""

    title: str | None = None
    columns: Sequence[str] | None = None       # column order when rows may be empty
    controls: dict[str, Any] = field(default_factory=dict)  # control metadata by id@version
    status_column: str | None = None          # colour this column by verdict (table format)
    wrap_columns: Mapping[str, int] | None = None  # only these wrap, sharing the width by ratio (table)
    footer: str | None = None                 # a line printed after the table (table format)
    run_id: str | None = None                 # the run the results come from (html)
    estate: Any = None                        # cfgmon.controls.estate.Estate (html)
    hidden: int = 0                           # results of the run not shown (html)


Renderer = Callable[[Sequence[Row], RenderContext, TextIO], None]

ROW_FORMATS: dict[str, Renderer] = {
    "table": table_format.render,
    "json": json_format.render,
    "csv": csv_format.render,
}

# Finding formats render control results (dicts with the keys of ControlResult).
FINDING_FORMATS: dict[str, Renderer] = {
    "ocsf": ocsf_format.render,
    "asff": asff_format.render,
    "junit": junit_format.render,
    "html": html_format.render,
}

# Formats that carry the fix of each NON_COMPLIANT result, and those that also describe
# the estate (what was collected, compliance over time): both are read from the database.
REMEDIATION_FORMATS = frozenset({"json", "html"})
ESTATE_FORMATS = frozenset({"html"})

FORMATS: dict[str, Renderer] = {**ROW_FORMATS, **FINDING_FORMATS}
