"""README.md as test data: its sections, fenced code blocks, console transcripts and
quoted text, so tests compare the program with what the README says, not a copy.

A console transcript is a fenced block whose info string is `console`. A line that
starts with `$ ` is a command (a trailing backslash continues it on the next line);
the lines after it, up to the next command, are what the command prints. In that
output `…` stands for any run of characters within one line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ELLIPSIS = "…"

_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[\w-]*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
# `span`, or ``span with `backticks` inside``
_CODE_SPAN = re.compile(r"``(.+?)``|`([^`]+)`")


def text() -> str:
    return README.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The `## title` section, up to the next `## ` heading."""
    whole = text()
    start, end = _section_span(whole, title)
    return whole[start:end]


def _section_span(whole: str, title: str) -> tuple[int, int]:
    start = whole.index(f"\n## {title}\n")
    end = whole.find("\n## ", start + 1)
    return start, end if end != -1 else len(whole)


@dataclass(frozen=True)
class Block:
    info: str  # the fence's info string: sql, sh, console, python …
    body: str  # the lines inside the fence, their common indentation removed
    line: int  # README line of the opening fence


def blocks(info: str, title: str | None = None) -> list[Block]:
    """The fenced blocks with this info string, in the whole README or one section."""
    whole = text()
    start, end = _section_span(whole, title) if title else (0, len(whole))
    found = []
    for m in _FENCE.finditer(whole, start, end):
        if m["info"] != info:
            continue
        indent = len(m["indent"])
        body = "".join(line[indent:] for line in m["body"].splitlines(keepends=True))
        found.append(Block(info, body, whole.count("\n", 0, m.start()) + 1))
    return found


@dataclass(frozen=True)
class Transcript:
    argv: list[str]  # the command, split as a POSIX shell would
    output: list[str]  # the lines it prints, stdout then stderr
    line: int  # README line of the command

    def __str__(self) -> str:
        return f"README.md:{self.line} {' '.join(self.argv[:3])}"


def transcripts() -> list[Transcript]:
    """Every command of every console block, with the output shown under it."""
    found: list[Transcript] = []
    for block in blocks("console"):
        command: list[str] | None = None
        output: list[str] = []
        start = 0
        for number, line in enumerate(block.body.splitlines(), block.line + 1):
            if command is not None and command[-1].endswith("\\"):
                command[-1] = command[-1][:-1]
                command.append(line)
            elif line.startswith("$ "):
                if command is not None:
                    found.append(Transcript(shlex.split(" ".join(command)), output, start))
                command, output, start = [line[2:]], [], number
            else:
                assert command is not None, f"README.md:{number}: output before any `$ ` command"
                output.append(line)
        assert command is not None, f"README.md:{block.line}: a console block with no command"
        found.append(Transcript(shlex.split(" ".join(command)), output, start))
    return found


def quoted(title: str, fragment: str) -> str:
    """The one `code span` of a section that contains `fragment`."""
    spans = [a or b for a, b in _CODE_SPAN.findall(section(title)) if fragment in (a or b)]
    assert len(spans) == 1, f"README section {title!r} quotes {fragment!r} {len(spans)} times"
    return spans[0]


def line_matches(expected: str, actual: str) -> bool:
    """Whether a printed line is the README's line, where `…` is any run of characters."""
    pattern = ".*".join(re.escape(part) for part in expected.split(ELLIPSIS))
    return re.fullmatch(pattern, actual, flags=re.S) is not None
