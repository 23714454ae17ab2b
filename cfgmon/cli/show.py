"""What `check` and `results` both do with a report: narrow it, write each output, exit."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import typer

from cfgmon.cli.common import EXIT_NOT_ALL_OK, output_stream
from cfgmon.controls.report import CheckReport
from cfgmon.errors import UsageError
from cfgmon.output import RenderContext
from cfgmon.output.asff_split import SCRIPT_NAME, import_script, is_split_file, split_rows
from cfgmon.output.json_format import dumps
from cfgmon.output.report_view import render_report
from cfgmon.text import counted


def check_split_folder(folder: Path | None) -> None:
    """Refuse an --asff-split folder that cannot be written, before any work is done."""
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"cannot write findings into {folder}: it is not a folder")
    if not folder.exists() and not folder.parent.is_dir():
        raise UsageError(f"cannot create {folder}: folder {folder.parent} does not exist")


def show(
    report: CheckReport,
    streams: Sequence[tuple[str, TextIO]],
    *,
    statuses: Sequence[str] = (),
    accounts: Sequence[str] = (),
    asff_split: Path | None = None,
    title: str = "cfgmon check",
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> CheckReport:
    """Write the results `statuses` and `accounts` select to every stream; return them."""
    missing = sorted(set(accounts) - set(report.accounts))
    if missing:
        raise UsageError(f"no result for account {', '.join(missing)} in this run "
                         f"(it has {counted(len(report.accounts), 'account')})")
    shown = report.select(statuses, accounts)
    for format_name, out in streams:
        render_report(shown, format_name, out, title=title, extra=extra)
    if asff_split is not None:
        write_split(shown, asff_split)
    return shown


def write_split(report: CheckReport, folder: Path) -> None:
    """One ASFF file per account, region and 100 findings, and import.sh, into `folder`."""
    files = split_rows(report.rows(), RenderContext(controls=report.controls))
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror or exc}") from None
    written = {item.name for item in files} | {SCRIPT_NAME}
    for item in files:
        with output_stream(folder / item.name) as out:
            out.write(dumps(list(item.findings), indent=2) + "\n")
    with output_stream(folder / SCRIPT_NAME) as out:
        out.write(import_script(files))
    for stale in folder.iterdir():  # an earlier split's files that this one did not rewrite
        if is_split_file(stale.name) and stale.name not in written:
            stale.unlink()
    findings = counted(sum(len(item.findings) for item in files), "ASFF finding")
    accounts = counted(len({item.account_id for item in files}), "account")
    print(f"wrote {findings} in {counted(len(files), 'file')} for {accounts} to {folder}; "
          f"import them with `sh {folder / SCRIPT_NAME}`, once with the credentials of "
          "each account", file=sys.stderr)


def exit_for(shown: CheckReport, exit_zero: bool) -> None:
    """Exit 1 when a shown result is NON_COMPLIANT or INSUFFICIENT_DATA (unless --exit-zero)."""
    if shown.failing and not exit_zero:
        raise typer.Exit(EXIT_NOT_ALL_OK)
