"""Every rule of cfgmon/alarms/decisions.py has its row in docs/alarm-evaluation.md, and back.

A rule is marked `(rule: ID)` in decisions.py; the document's table "Rules and their
evidence" has one row per ID: the ID in backticks, an example, what cfgmon does, and
the evidence, which starts with its kind: an AWS document, or "decided, no evidence".
"""

from __future__ import annotations

import re
from pathlib import Path

from cfgmon.alarms import decisions

DOC = Path(__file__).resolve().parents[2] / "docs" / "alarm-evaluation.md"
SOURCE = Path(decisions.__file__).read_text(encoding="utf-8")
MARKER = re.compile(r"\(rule: ([a-z][a-z0-9-]*)\)")
ROW = re.compile(r"^\| `([a-z][a-z0-9-]*)` \|(.*)\|\s*$", re.M)


def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("\n## Rules and their evidence\n") :]
    rows: dict[str, list[str]] = {}
    for rule, rest in ROW.findall(table):
        assert rule not in rows, f"{rule} has two rows"
        rows[rule] = [cell.strip() for cell in rest.split(" | ")]
    return rows


def test_each_rule_is_marked_once_and_documented_once():
    marked = MARKER.findall(SOURCE)
    assert len(marked) >= 30
    assert sorted(marked) == sorted(set(marked)), "a rule ID is marked twice"
    assert set(marked) == set(_rows()), "decisions.py and docs/alarm-evaluation.md name different rules"


def test_every_row_gives_an_example_what_cfgmon_does_and_its_evidence():
    for rule, cells in _rows().items():
        assert len(cells) == 3, f"{rule}: expected example | what cfgmon does | evidence"
        assert all(cells), f"{rule}: an empty cell"
        assert cells[2].startswith(("AWS document", "decided, no evidence")), rule


def test_the_case_files_cite_only_rules_that_exist():
    cited = set()
    for path in (Path(__file__).parent / "cases").glob("*.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                cited |= set(re.findall(r"\b(?:decided|decisions):? ?\(?([a-z]+(?:-[a-z]+)+)", line))
    assert cited, "the case files cite no rule"
    assert cited <= set(_rows()), f"case files cite unknown rules: {cited - set(_rows())}"
