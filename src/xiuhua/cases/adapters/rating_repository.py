"""Citizens' ratings of closed cases, one per case, in ``case_ratings``."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from xiuhua.cases.domain.rating import Rating
from xiuhua.kernel.errors import ConflictError
from xiuhua.platform.db import tables as t

_R = t.case_ratings.c


class RatingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, case_id: int, rating: Rating) -> None:
        """Store a case's rating; raises ConflictError when the case is already rated."""
        row = {"case_id": case_id, "score": rating.score, "comment": rating.comment, "rated_by": rating.rated_by,
               "rated_at": rating.rated_at}  # fmt: skip
        try:
            self.conn.execute(t.case_ratings.insert().values(**row))
        except IntegrityError as exc:
            raise ConflictError("rating.duplicate", f"案件 {rating.case_no} 已评价过", case_no=rating.case_no) from exc

    def get(self, case_no: str) -> Rating | None:
        """The rating of a case, by its number; None when it has none."""
        c = t.cases.c
        stmt = (
            select(_R.score, _R.comment, _R.rated_by, _R.rated_at)
            .join_from(t.case_ratings, t.cases, _R.case_id == c.id)
            .where(c.case_no == case_no)
        )
        row = self.conn.execute(stmt).first()
        return Rating(case_no, row.score, row.comment, row.rated_by, row.rated_at) if row else None
