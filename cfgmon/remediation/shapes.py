"""Each plan's text rendered once per shape: the plans of thousands of accounts of one
estate are alike but for the account's id.

An estate built from one template (a StackSet, a landing zone) fails alike in every
account: the same trail, log group, filter and topic names, the same settings, so the
same steps, which differ only in the account id inside ARNs, provider aliases and
comments. The renderers treat an account id as an opaque run of 12 digits: quoted,
escaped and sanitised like any digits, compared only for equality, never ordered,
hashed or cut. So the text of a plan for account B is the text of the same-shaped
plan for account A with A's id replaced by B's, and each shape is rendered once.
Another account a plan names (the management account's log group an organisation
trail delivers to, say) is part of the shape: it stays as it is.

A plan takes this path only when every run of 12 or more digits in it, and in its
rendered text, is exactly 12 digits long (an account id standing alone), so that
replacing an id can only ever replace that id, and when it holds no control
character: JSON and HCL write one as a 4-digit escape, whose digits could run into digits
after it and spell an account id. Any other plan is rendered on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cfgmon.remediation.plan import Plan

# ASCII digits only: an account id is 12 of them, and \d (any Unicode digit) scans slower
_THIRTEEN_DIGITS = re.compile(r"[0-9]{13}")

Texts = tuple[str, ...]


def ids_stand_alone(text: str) -> bool:
    """Every run of 12 or more digits in `text` is exactly 12 long."""
    return _THIRTEEN_DIGITS.search(text) is None


class ShapeCache:
    """render(plan), computed once per shape of plan (see the module's docstring)."""

    def __init__(self, render: Callable[[Plan], Texts]) -> None:
        self._render = render
        # shape -> (the account it was rendered for, its texts); None: render each alone
        self._shapes: dict[str, tuple[str, Texts] | None] = {}

    def __call__(self, plan: Plan) -> Texts:
        account = plan.account_id
        text = repr(plan)   # dataclasses, dicts, tuples and strs: every value, faithfully
        # repr writes a control character as \x.. (or \t, \n, \r, which every
        # renderer escapes with a letter, or flattens)
        if len(account) != 12 or not account.isdigit() or "\\x" in text:
            return self._render(plan)
        shape = text.replace(account, "\0")
        if shape not in self._shapes:
            # checked for the first plan of a shape, it holds for every plan of it: the
            # neighbours of each id are the same in all of them
            texts = self._render(plan)
            alike = ids_stand_alone(text) and all(map(ids_stand_alone, texts))
            self._shapes[shape] = (account, texts) if alike else None
            return texts
        found = self._shapes[shape]
        if found is None:
            return self._render(plan)
        first, texts = found
        return tuple(t.replace(first, account) for t in texts)
