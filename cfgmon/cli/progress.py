"""The collection progress bar `collect` and `demo` share: scopes done of scopes total."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgmon.aws import ScopeOutcome


class _ScopeProgress:
    """A rich progress bar of scopes done, drawn on stderr only when it is a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = None

    def start(self, total: int) -> None:
        self._task = self._bar.add_task("", total=total)

    def advance(self, outcome: ScopeOutcome) -> None:
        scope = outcome.scope
        self._bar.update(
            self._task, advance=1,
            description=f"{scope.account_id} {scope.region} {scope.service} {outcome.status}",
        )

    def resize(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def __enter__(self):
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def scope_progress():
    """A progress bar of scopes collected when stderr is a terminal; else nothing."""
    return _ScopeProgress() if sys.stderr.isatty() else _NoProgress()
