"""Shards of an organisation: N disjoint, stable slices of its accounts.

An account belongs to shard 1 + (a hash of its id) mod N. The hash depends on the
account id alone, so an account keeps its shard when others join or leave the
organisation, and every machine that collects or exports a shard agrees on it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cfgmon.errors import UsageError

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"no shard {self.index} of {self.count}")

    def owns(self, account_id: str) -> bool:
        return shard_of(account_id, self.count) == self.index

    @property
    def tag(self) -> str:
        """The shard in a file or folder name: 2-of-3."""
        return f"{self.index}-of-{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(account_id: str, count: int) -> int:
    """The shard (1..count) that holds `account_id`."""
    digest = hashlib.sha256(account_id.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """`K/N` as typed on the command line; UsageError for anything else."""
    match = _SHARD.fullmatch(text or "")
    if not match:
        raise UsageError(f"--shard {text!r} is not K/N (e.g. --shard 2/3)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text!r}: K must be 1..N (e.g. --shard 2/3)")
    return Shard(index, count)
