"""The statistic of one period, as CloudWatch aggregates the values a metric filter published.

The samples of a period are a few distinct values, each published many times (one
event's value, and the default value of each other log event), so a statistic works
on (value, count) pairs and a billion samples cost nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

Samples = tuple[tuple[float, int], ...]  # (value, how many times), counts > 0


@dataclass(frozen=True)
class Statistic:
    name: str
    compute: Callable[[Samples], float]
    percentile: bool = False  # a pNN statistic: EvaluateLowSampleCountPercentile applies

    def of(self, samples: Samples) -> float | None:
        """The datapoint of a period, None when nothing was published in it."""
        samples = tuple((value, count) for value, count in samples if count > 0)
        return self.compute(samples) if samples else None


def _count(samples: Samples) -> int:
    return sum(count for _, count in samples)


def _sum(samples: Samples) -> float:
    return math.fsum(value * count for value, count in samples)


_SIMPLE: dict[str, Callable[[Samples], float]] = {
    "Sum": _sum,
    "SampleCount": lambda samples: float(_count(samples)),
    "Average": lambda samples: _sum(samples) / _count(samples),
    "Minimum": lambda samples: min(value for value, _ in samples),
    "Maximum": lambda samples: max(value for value, _ in samples),
}


def _ranked(samples: Samples, low: float, high: float):
    """(value, how many of its samples rank within (low, high]), by nearest rank
    (decisions.py: nearest-rank)."""
    total = _count(samples)
    first = math.floor(low / 100 * total + 1e-9) + 1
    last = max(first, math.ceil(high / 100 * total - 1e-9))
    rank = 0
    for value, count in sorted(samples):
        start, end = rank + 1, rank + count
        rank = end
        kept = min(end, last) - max(start, first) + 1
        yield value, max(kept, 0)


def _percentile(level: float) -> Callable[[Samples], float]:
    def compute(samples: Samples) -> float:
        total = _count(samples)
        wanted = max(1, math.ceil(level / 100 * total - 1e-9))
        rank = 0
        for value, count in sorted(samples):
            rank += count
            if rank >= wanted:
                return value
        return max(value for value, _ in samples)

    return compute


def _trimmed(kind: str, low: float, high: float) -> Callable[[Samples], float]:
    def compute(samples: Samples) -> float:
        kept = [(value, n) for value, n in _ranked(samples, low, high) if n > 0]
        if kind == "wm":
            lowest, highest = kept[0][0], kept[-1][0]
            clamped = [(min(max(value, lowest), highest), count) for value, count in samples]
            return _sum(tuple(clamped)) / _count(samples)
        kept_count = sum(n for _, n in kept)
        kept_sum = math.fsum(value * n for value, n in kept)
        return {"tm": lambda: kept_sum / kept_count, "ts": lambda: kept_sum,
                "tc": lambda: float(kept_count)}[kind]()

    return compute


_NUMBER = r"\d+(?:\.\d+)?"
_SHORT = re.compile(rf"(p|tm|wm|tc|ts)({_NUMBER})", re.I)
_RANGE = re.compile(rf"(tm|wm|tc|ts)\(({_NUMBER})?%?:({_NUMBER})?%?\)", re.I)


def statistic(name: str | None) -> Statistic | None:
    """The statistic a name spells (Sum, p99, tm90, TM(10%:90%), IQM), or None."""
    if name is None:
        return None
    if name in _SIMPLE:
        return Statistic(name, _SIMPLE[name])
    if name.upper() == "IQM":
        return Statistic(name, _trimmed("tm", 25, 75))
    short = _SHORT.fullmatch(name)
    if short:
        kind, level = short.group(1).lower(), float(short.group(2))
        if not 0 <= level <= 100:
            return None
        if kind == "p":
            return Statistic(name, _percentile(level), percentile=True)
        return Statistic(name, _trimmed(kind, 0, level))
    ranged = _RANGE.fullmatch(name)
    if ranged:
        low = float(ranged.group(2) or 0)
        high = float(ranged.group(3) or 100)
        if 0 <= low < high <= 100:
            return Statistic(name, _trimmed(ranged.group(1).lower(), low, high))
    return None
