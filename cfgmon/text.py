"""Wording shared by everything cfgmon prints."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, the noun in the plural unless the count is one.

    counted(1, "region") is "1 region", counted(0, "region") "0 regions"; `plural`
    is for a noun that does not just take an s (counted(2, "match", "matches")).
    """
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
