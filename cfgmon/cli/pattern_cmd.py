"""`cfgmon pattern test`: the offline counterpart of `aws logs test-metric-filter`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cfgmon.cli.common import choice_error
from cfgmon.output.json_format import dumps
from cfgmon.patterns import PatternError, compile_pattern

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
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Say which events the filter pattern matches; exit 2 when the pattern is invalid.

    Example: cfgmon pattern test '{ $.eventName = "Put*" }' --event '{"eventName": "PutDeliveryChannel"}'
    """
    if format not in PATTERN_FORMATS:
        raise choice_error("format", format, PATTERN_FORMATS)
    events = _events_to_test(event)
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        if format == "json":
            _print_json(pattern, str(exc), [])
            raise typer.Exit(2) from None
        raise  # cli.main prints it on one line and exits 2
    matched = compiled.matches_all(events)
    if format == "json":
        _print_json(
            pattern,
            None,
            [{"event": e, "matched": m} for e, m in zip(events, matched, strict=True)],
        )
        return
    if not events:
        print(f"valid {compiled.kind} pattern; no events given (use --event)")
    for text, hit in zip(events, matched, strict=True):
        print(f"{'MATCH' if hit else 'no match':<10}{_one_line(text)}")


def _events_to_test(given: list[str] | None) -> list[str]:
    """The raw events to test, in order: those given with --event.

    The place for `--control ID` (to come): add the control's event catalogue here.
    """
    return list(given or [])


def _print_json(pattern: str, error: str | None, results: list[dict]) -> None:
    document = {"pattern": pattern, "valid": error is None, "error": error, "results": results}
    sys.stdout.write(dumps(document, indent=2) + "\n")


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_EVENT_CHARS else flat[: SHOWN_EVENT_CHARS - 1] + "…"


def register(app: typer.Typer) -> None:
    app.add_typer(pattern_app, name="pattern")
