"""PatternError: a filter pattern CloudWatch Logs would reject, with where and why."""

from __future__ import annotations

from cfgmon.errors import CfgmonError


class PatternError(CfgmonError):
    """An invalid filter pattern (AWS answers "Invalid metric filter pattern").

    Carries the facts as data, like sqlglot's ParseError: `message` (what is wrong),
    `position` (0-based offset into the pattern), `line` and `column` (1-based),
    and `snippet` (the offending line with a caret under the column). `str()` is one
    line, e.g. "expected ')' at column 57", so the CLI can print it as is.
    """

    def __init__(self, message: str, pattern: str = "", position: int = 0) -> None:
        self.message = message
        self.pattern = pattern
        self.position = max(0, min(position, len(pattern)))
        before = pattern[: self.position]
        self.line = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        self.column = self.position - line_start + 1
        line_end = pattern.find("\n", line_start)
        self.line_text = pattern[line_start : None if line_end < 0 else line_end]
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = (
            f"column {self.column}" if self.line == 1 else f"line {self.line}, column {self.column}"
        )
        return f"{self.message} at {where}"

    @property
    def snippet(self) -> str:
        """The line of the pattern holding the error, and a caret under the column."""
        return f"{self.line_text}\n{' ' * (self.column - 1)}^"

    def __reduce__(self):  # keep the facts when pickled (multiprocessing, pytest-xdist)
        return (type(self), (self.message, self.pattern, self.position))
