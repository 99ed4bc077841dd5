"""The citizen's rating of a case they reported, once it is closed: given once, read by them and by staff in scope."""

from __future__ import annotations

from dataclasses import dataclass

from xiuhua.cases.domain.rating import Rating
from xiuhua.cases.domain.workflow import State
from xiuhua.cases.ports import RatingsUnitOfWork
from xiuhua.cases.services.access import viewable_case
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.accounts import Principal

RATED = "citizen.rate"
"""The audit action of a rating (the audit trail keeps every citizen's rating too)."""
MAX_COMMENT = 500


@dataclass(frozen=True, slots=True)
class RateCase:
    viewer: Principal
    case_no: str
    score: int
    """Satisfaction, 1–5."""
    comment: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.score <= 5:
            raise InvalidInputError("rating.bad_score", "满意度应为 1–5 分", score=self.score)
        if len(self.comment) > MAX_COMMENT:
            raise InvalidInputError("rating.comment_too_long", f"评价内容不能超过 {MAX_COMMENT} 字")


def rate_case(cmd: RateCase, uow: RatingsUnitOfWork, clock: Clock) -> Rating:
    """Rate a closed case the citizen reported; raises ForbiddenError (staff), NotFoundError (not their
    report), ConflictError (not closed yet, or rated already)."""
    if not cmd.viewer.is_citizen:
        raise ForbiddenError("rating.citizen_only", "只有上报该问题的市民可以评价")
    now = clock.now()
    with uow:
        case = viewable_case(uow, cmd.viewer, cmd.case_no)
        if case.state is not State.CLOSED:
            raise ConflictError(
                "rating.not_closed", f"案件 {cmd.case_no} 尚未结案，结案后才能评价", case_no=cmd.case_no
            )
        rating = Rating(cmd.case_no, cmd.score, cmd.comment, cmd.viewer.username, now)
        if uow.ratings.get(cmd.case_no) is not None:
            raise ConflictError("rating.duplicate", f"案件 {cmd.case_no} 已评价过", case_no=cmd.case_no)
        assert case.id is not None
        uow.ratings.add(case.id, rating)
        uow.audit.add(now, cmd.viewer.username, RATED, cmd.case_no, "", score=cmd.score, comment=cmd.comment)
        uow.commit()
    return rating


def case_rating(viewer: Principal, case_no: str, uow: RatingsUnitOfWork) -> Rating:
    """The rating of a case the viewer may see; raises NotFoundError when it has none."""
    with uow:
        viewable_case(uow, viewer, case_no)  # the citizen's own report, or staff in scope
        found = uow.ratings.get(case_no)
    if found is None:
        raise NotFoundError("rating.not_found", f"案件 {case_no} 尚无评价", case_no=case_no)
    return found
