"""Every rule of decisions.py has its row in docs/filter-patterns.md, and every row its rule.

A rule in decisions.py is marked `(decided: ID)` (or `decided: ID` inside a
sentence); the document's "Decided rules" table has one row per ID, the ID in
backticks in the first cell, and says what cfgmon does and on what evidence.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cfgmon.patterns import decisions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "filter-patterns.md"
SOURCE = Path(decisions.__file__).read_text(encoding="utf-8")

MARKER = re.compile(r"\bdecided: ([a-z][a-z0-9-]*)")
ROW = re.compile(r"^\| `([a-z][a-z0-9-]*)` \|(.*)\|\s*$", re.M)


def _marked() -> list[str]:
    return MARKER.findall(SOURCE)


def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## Decided rules\n")
    end = text.find("\n## ", start + 1)
    table = text[start : end if end != -1 else len(text)]
    rows: dict[str, list[str]] = {}
    for rule, rest in ROW.findall(table):
        assert rule not in rows, f"{rule} has two rows"
        rows[rule] = [cell.strip() for cell in re.split(r"(?<!\\)\|", rest)]
    return rows


def test_each_decided_rule_is_marked_once():
    marked = _marked()
    assert len(marked) >= 20
    assert sorted(marked) == sorted(set(marked)), "a rule ID is marked twice"


def test_every_mention_of_a_decision_carries_an_id():
    # A rule added as plain "(decided)" would escape the document; the module
    # docstring, which explains the marker, is the only other place the word may be.
    docstring = ast.get_docstring(ast.parse(SOURCE), clean=False) or ""
    body = SOURCE.replace(docstring, "", 1)
    unmarked = [
        line.strip()
        for line in MARKER.sub("", body).splitlines()
        if re.search(r"\bdecided\b", line, re.I)
    ]
    assert not unmarked, f"decided without an ID in decisions.py: {unmarked}"


def test_the_document_has_a_row_for_every_decided_rule_and_no_other():
    rows = _rows()
    marked = set(_marked())
    assert marked - rows.keys() == set(), "decided in decisions.py, missing from docs/filter-patterns.md"
    assert rows.keys() - marked == set(), "rows in docs/filter-patterns.md with no rule in decisions.py"


def test_every_row_says_what_cfgmon_does_and_why():
    for rule, (does, evidence) in _rows().items():
        assert does, f"{rule}: what cfgmon does is empty"
        assert evidence, f"{rule}: no evidence"
