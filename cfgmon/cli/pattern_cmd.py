"""`cfgmon pattern test`: the offline counterpart of `aws logs test-metric-filter`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cfgmon.cli.common import choice_error
from cfgmon.controls import resolve
from cfgmon.controls.coverage import Coverage, evaluate_pattern
from cfgmon.output.json_format import dumps
from cfgmon.patterns import PatternError, compile_pattern
from cfgmon.text import counted

pattern_app = typer.Typer(
    help="Test CloudWatch Logs filter patterns offline, as CloudWatch Logs evaluates them.",
    no_args_is_help=True,
)

PATTERN_FORMATS = ("text", "json")
SHOWN_EVENT_CHARS = 100  # text output shortens long events to one readable line


@pattern_app.command("test")
def test(
    pattern: Annotated[
        str, typer.Argument(help="The filter pattern, as given to PutMetricFilter.")
    ],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            "-e",
            help="A raw log event message (JSON or plain text); repeatable.",
        ),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            "--control",
            "-c",
            help="Also test the control's event catalogue (ID or ID@VERSION); "
            "exit 1 when the pattern does not cover it.",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Say which events the filter pattern matches; exit 2 when the pattern is invalid.

    With --control, the control's catalogue records are tested after the given
    events, and the last line says whether a metric filter with this pattern covers
    the control (exit 1 when it does not).

    Example: cfgmon pattern test '{ $.eventName = "Put*" }' --event '{"eventName": "PutDeliveryChannel"}'
    """
    if format not in PATTERN_FORMATS:
        raise choice_error("format", format, PATTERN_FORMATS)
    version = resolve(control) if control else None
    events = list(event or [])
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        if format == "json":
            _print_json(pattern, str(exc), [])
            raise typer.Exit(2) from None
        raise  # cli.main prints it on one line and exits 2
    results = [
        {"event": e, "matched": m}
        for e, m in zip(events, compiled.matches_all(events), strict=True)
    ]
    coverage = evaluate_pattern(version, pattern) if version else None
    if coverage is not None:
        results += [
            {"event": e.text, "label": e.label, "matched": m}
            for e, m in zip(version.matches, coverage.matched, strict=True)
        ]
    if format == "json":
        summary = _coverage_summary(version, coverage) if coverage else None
        _print_json(pattern, None, results, control=summary)
    else:
        if not results:
            print(f"valid {compiled.kind} pattern; no events given (use --event or --control)")
        for item in results:
            shown = item.get("label") or _one_line(item["event"])
            print(f"{'MATCH' if item['matched'] else 'no match':<10}{shown}")
        if coverage is not None:
            print(_coverage_line(version.ref, coverage))
    if coverage is not None and not coverage.covers:
        raise typer.Exit(1)


def _coverage_line(ref: str, coverage: Coverage) -> str:
    total = len(coverage.matched)
    if coverage.covers:
        broader = "; broader than the reference pattern" if coverage.broader_than_reference else ""
        return f"covers {ref}: matches all {counted(total, 'catalogue record')}{broader}"
    return (
        f"does not cover {ref}: matches {sum(coverage.matched)} of "
        f"{counted(total, 'catalogue record')}; misses {coverage.missed}"
    )


def _coverage_summary(version, coverage: Coverage) -> dict:
    return {
        "id": version.control.id,
        "version": version.version,
        "covers": coverage.covers,
        "events_matched": sum(coverage.matched),
        "events_total": len(coverage.matched),
        "missed": coverage.missed,
        "broader_than_reference": coverage.broader_than_reference,
    }


def _print_json(
    pattern: str, error: str | None, results: list[dict], *, control: dict | None = None
) -> None:
    document = {"pattern": pattern, "valid": error is None, "error": error, "results": results}
    if control is not None:
        document["control"] = control
    sys.stdout.write(dumps(document, indent=2) + "\n")


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_EVENT_CHARS else flat[: SHOWN_EVENT_CHARS - 1] + "…"


def register(app: typer.Typer) -> None:
    app.add_typer(pattern_app, name="pattern")
