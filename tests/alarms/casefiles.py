"""Case files of the alarm languages, read by one loader.

One case a line, fields separated by " ; " (split at the LAST separators, so the
first field, an expression or a rule, may hold anything); lines starting with # and
blank lines are ignored. Each file's header says what its fields are and every
block cites where its answers come from (an AWS page, or "decided" and the rule of
cfgmon/alarms/decisions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CASES = Path(__file__).parent / "cases"
SEPARATOR = " ; "


@dataclass(frozen=True)
class Line:
    fields: tuple[str, ...]
    where: str  # file:line, the case id

    def __str__(self) -> str:
        return self.where


def load(name: str, fields: int) -> list[Line]:
    path = CASES / name
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        parts = text.rsplit(SEPARATOR, fields - 1)
        where = f"{name}:{number}"
        assert len(parts) == fields, f"{where}: expected {fields} fields"
        lines.append(Line(tuple(part.strip() for part in parts), where))
    return lines


def ids(lines: list[Line]) -> list[str]:
    return [line.where for line in lines]


def series(text: str) -> tuple[float | None, ...]:
    """[1, _, 2] -> (1.0, None, 2.0)"""
    inner = text.strip()[1:-1]
    return tuple(None if item.strip() == "_" else float(item) for item in inner.split(","))


def named_series(text: str) -> dict[str, tuple[float | None, ...]]:
    """m1=[1, _] m2=[0, 0] -> {"m1": (1.0, None), "m2": (0.0, 0.0)}"""
    found: dict[str, tuple[float | None, ...]] = {}
    rest = text.strip()
    while rest:
        name, _, rest = rest.partition("=")
        body, _, rest = rest.partition("]")
        found[name.strip()] = series(body + "]")
        rest = rest.strip()
    return found
