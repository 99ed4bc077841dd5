"""A citizen's rating of a closed case they reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Rating:
    """A citizen's rating of a case they reported, once it was closed."""

    case_no: str
    score: int
    """Satisfaction, 1–5."""
    comment: str
    rated_by: str
    rated_at: datetime
