"""Assessment formulas (GB/T 30428.4 style): rates, band scores, composite indices and grades. Pure.

Zero denominators are defined, never an error: a rate over nothing is None ("no data"), its score is
None, and a composite index leaves such terms out and re-weights the rest; with no term left the index
is None and the grade is the scheme's "no data" grade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

NO_GRADE = "—"


def rate(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    if denominator == 0:
        return None
    return numerator / denominator


def rate_score(value: float | None, higher_is_better: bool = True) -> float | None:
    """A rate as points out of 100: rate × 100, or (1 − rate) × 100 for a rate where lower is better."""
    if value is None:
        return None
    return value * 100 if higher_is_better else (1 - value) * 100


@dataclass(frozen=True, slots=True)
class Band:
    """Counts from ``low`` to ``high`` inclusive (``high`` None: no upper end) score ``points``."""

    low: float
    high: float | None
    points: float

    def holds(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)


def band_score(value: float | None, bands: Sequence[Band]) -> float | None:
    """Points of the first band holding the value; None for no value; 0 when no band holds it."""
    if value is None:
        return None
    for band in bands:
        if band.holds(value):
            return band.points
    return 0.0


def composite(terms: Sequence[tuple[float, float | None]]) -> float | None:
    """Weighted mean of (weight, score) over the scores that exist, so weights need not sum to one."""
    present = [(w, s) for w, s in terms if s is not None and w > 0]
    total = sum(w for w, _ in present)
    if total == 0:
        return None
    return sum(w * s for w, s in present) / total


@dataclass(frozen=True, slots=True)
class GradeBand:
    grade: str
    min_score: float


def grade(score: float | None, bands: Sequence[GradeBand]) -> str:
    """The first grade (bands ordered best first) whose minimum the score reaches."""
    if score is None:
        return NO_GRADE
    for band in bands:
        if score >= band.min_score:
            return band.grade
    return bands[-1].grade if bands else NO_GRADE


def per_unit(count: float, size: float | None, unit: float = 1.0) -> float | None:
    """A count normalised by a size (area in km², population in 10,000s); None when the size is unknown or 0."""
    if not size:
        return None
    return count / size * unit


def rank(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) by score, best first; objects without a score are not ranked."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[float, int] = {}
    for position, score in enumerate(ordered, start=1):
        first.setdefault(score, position)
    return [first[s] if s is not None else None for s in scores]


def round_half_up(value: float | None, digits: int) -> float | None:
    """Round for publishing (half away from zero on the decimal text, as a bulletin does)."""
    return None if value is None else _round_half_up(value, digits)


@lru_cache(maxsize=1 << 16)  # a month's rates and scores repeat a lot (1/2, 100, …)
def _round_half_up(value: float, digits: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
