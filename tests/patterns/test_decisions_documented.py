"""Every rule of decisions.py has its row in docs/filter-patterns.md, and every row its rule.

A rule in decisions.py is marked `(rule: ID)` (or `rule: ID` inside a sentence);
the document's table "Rules and their evidence" has one row per ID, the ID in
backticks in the first cell, then an example, what cfgmon does, and the evidence,
which names its kind: a recorded AWS answer, an AWS document, or "decided, no
evidence" (the rules a TestMetricFilter call could still overturn).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cfgmon.patterns import decisions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "filter-patterns.md"
SOURCE = Path(decisions.__file__).read_text(encoding="utf-8")

MARKER = re.compile(r"\brule: ([a-z][a-z0-9-]*)")
ROW = re.compile(r"^\| `([a-z][a-z0-9-]*)` \|(.*)\|\s*$", re.M)
EVIDENCE_KINDS = ("AWS answer", "AWS document", "decided, no evidence")


def _marked() -> list[str]:
    return MARKER.findall(SOURCE)


def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## Rules and their evidence\n")
    end = text.find("\n## ", start + 1)
    table = text[start : end if end != -1 else len(text)]
    rows: dict[str, list[str]] = {}
    for rule, rest in ROW.findall(table):
        assert rule not in rows, f"{rule} has two rows"
        rows[rule] = [cell.strip() for cell in re.split(r"(?<!\\)\|", rest)]
    return rows


def test_each_rule_is_marked_once():
    marked = _marked()
    assert len(marked) >= 25
    assert sorted(marked) == sorted(set(marked)), "a rule ID is marked twice"


def test_every_mention_of_a_decision_carries_an_id():
    # A rule added as plain "decided" would escape the document: the word may only
    # appear on a line that carries a marker, or on the line before one. The module
    # docstring, which explains the marker, is the only other place it may be.
    docstring = ast.get_docstring(ast.parse(SOURCE), clean=False) or ""
    lines = SOURCE.replace(docstring, "", 1).splitlines()
    unmarked = [
        line.strip()
        for at, line in enumerate(lines)
        if re.search(r"\bdecided\b", line, re.I) and not MARKER.search(" ".join(lines[at : at + 2]))
    ]
    assert not unmarked, f"decided without a rule ID in decisions.py: {unmarked}"


def test_the_document_has_a_row_for_every_rule_and_no_other():
    rows = _rows()
    marked = set(_marked())
    assert marked - rows.keys() == set(), "a rule in decisions.py, missing from docs/filter-patterns.md"
    assert rows.keys() - marked == set(), "rows in docs/filter-patterns.md with no rule in decisions.py"


def test_every_row_gives_an_example_what_cfgmon_does_and_its_kind_of_evidence():
    for rule, cells in _rows().items():
        assert len(cells) == 3, f"{rule}: expected example, what cfgmon does, evidence"
        example, does, evidence = cells
        assert example, f"{rule}: no example"
        assert does, f"{rule}: what cfgmon does is empty"
        assert evidence.startswith(EVIDENCE_KINDS), f"{rule}: evidence must start with one of {EVIDENCE_KINDS}"
