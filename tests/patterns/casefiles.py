"""Case files, read by one helper (sqlglot style).

A case file holds one case a line, `pattern ; event ; expected`, split at the LAST
two " ; " so a pattern may itself contain " ; ". `expected` is `match` or
`no match`. The event is raw text, or `@name` for an event defined earlier in the
file (or in cases/events.txt) by a line `@name = raw text`. Lines starting with #
and blank lines are ignored. A pattern is taken as written, blanks included (AWS
refuses a blank before `{`). In errors.txt a line is `pattern ; column ; message`:
the pattern must raise PatternError at that column with that text in its message.
In cis.txt a line is `pattern ; verdict` (equivalent, narrower or broader).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CASES = Path(__file__).parent / "cases"
SEPARATOR = " ; "
_NOT_MATCH_CASES = ("events.txt", "errors.txt", "cis.txt")


@dataclass(frozen=True)
class Case:
    pattern: str
    event: str
    expected: bool
    where: str  # file:line, shown by pytest as the case id

    def __str__(self) -> str:
        return self.where


@dataclass(frozen=True)
class ErrorCase:
    pattern: str
    column: int
    message: str
    where: str


def _lines(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield f"{path.name}:{number}", line


def _definitions(path: Path, into: dict[str, str]) -> None:
    for _, line in _lines(path):
        if line.startswith("@") and " = " in line:
            name, text = line.split(" = ", 1)
            into[name.strip()] = text


def load_cases(*names: str) -> list[Case]:
    """The match cases of the named files (all *.txt but events and errors when none given)."""
    shared: dict[str, str] = {}
    _definitions(CASES / "events.txt", shared)
    paths = [CASES / name for name in names] or sorted(
        p for p in CASES.glob("*.txt") if p.name not in _NOT_MATCH_CASES
    )
    cases = []
    for path in paths:
        events = dict(shared)
        for where, line in _lines(path):
            if line.startswith("@") and " = " in line:
                name, text = line.split(" = ", 1)
                events[name.strip()] = text
                continue
            pattern, event, expected = line.rsplit(SEPARATOR, 2)
            expected = expected.strip()
            assert expected in ("match", "no match"), f"{where}: expected must be match or no match"
            event = event.strip()
            if event.startswith("@"):
                assert event in events, f"{where}: no event named {event}"
                event = events[event]
            cases.append(Case(pattern, event, expected == "match", where))
    return cases


def load_error_cases() -> list[ErrorCase]:
    cases = []
    for where, line in _lines(CASES / "errors.txt"):
        pattern, column, message = line.rsplit(SEPARATOR, 2)
        cases.append(ErrorCase(pattern, int(column), message.strip(), where))
    return cases


def load_cis_cases() -> list[tuple[str, str, str]]:
    """(pattern, verdict, where) for every line of cis.txt."""
    cases = []
    for where, line in _lines(CASES / "cis.txt"):
        pattern, verdict = line.rsplit(SEPARATOR, 1)
        assert verdict.strip() in ("equivalent", "narrower", "broader"), where
        cases.append((pattern.strip(), verdict.strip(), where))
    return cases
