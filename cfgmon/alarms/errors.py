"""The errors of the alarm languages: a metric-math expression or a composite alarm rule
that AWS would reject, each with where (a 1-based column) and why."""

from __future__ import annotations

from cfgmon.errors import CfgmonError


class AlarmLanguageError(CfgmonError):
    """One line, e.g. "expected ')' at column 12"; `message`, `text` and `column` as data."""

    def __init__(self, message: str, text: str = "", position: int = 0) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.column = self.position + 1
        super().__init__(f"{message} at column {self.column}")

    def __reduce__(self):  # keep the facts when pickled
        return (type(self), (self.message, self.text, self.position))


class ExpressionError(AlarmLanguageError):
    """An invalid metric-math expression (PutMetricAlarm answers ValidationError)."""


class AlarmRuleError(AlarmLanguageError):
    """An invalid composite alarm rule (PutCompositeAlarm answers ValidationError)."""
