"""The citizen's rating of a closed case they reported, on SQLite and PostgreSQL: once, only their own, only
closed; staff in scope read it; the audit trail keeps it too."""

from __future__ import annotations

import pytest

from tests.integration.test_case_loop import HERE, PHOTO, City, city  # noqa: F401  (city: the fixture)
from xiuhua.cases.domain.commands import ReportCase
from xiuhua.cases.domain.workflow import Action, Source
from xiuhua.cases.services.lifecycle import report_case
from xiuhua.cases.services.rating import RATED, RateCase, case_rating, rate_case
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.org.domain.accounts import AccountKind, Principal
from xiuhua.org.domain.model import ClassKind

CITIZEN = Principal("citizen_rating", AccountKind.CITIZEN, frozenset({Role.CITIZEN}))
NEIGHBOUR = Principal("citizen_other", AccountKind.CITIZEN, frozenset({Role.CITIZEN}))
LEADER = Principal("leader", AccountKind.STAFF, frozenset({Role.LEADER}), "410200")
OTHER_DISTRICT = Principal("dispatcher", AccountKind.STAFF, frozenset({Role.DISPATCHER}), "410203")


def citizens_case(city: City, *, close: bool) -> str:  # noqa: F811
    report = ReportCase(CITIZEN.actor, Source.PUBLIC, ClassKind.COMPONENT, "01001", HERE, "井盖缺失")
    case_no = report_case(report, city.uow, city.clock, city.policy).case_no
    if close:
        city.act(case_no, Action.SEND_VERIFY, "acceptor1")
        city.act(case_no, Action.VERIFY, "supervisor_410202001")
        city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id(limit="2紧急工作时"))
        city.act(case_no, Action.DISPATCH, "dispatcher_410202")
        handler = "handler_" + city.case(case_no).department_code.lower()
        city.act(case_no, Action.FEEDBACK, handler, minutes=60, photos=(PHOTO,))
        city.act(case_no, Action.SEND_CHECK, "acceptor1")
        city.act(case_no, Action.CHECK_PASS, "supervisor_410202001", minutes=20)
        city.act(case_no, Action.CLOSE, "shiftleader1")
    return case_no


def test_a_citizen_rates_their_closed_case_once(city: City) -> None:  # noqa: F811
    case_no = citizens_case(city, close=True)
    with pytest.raises(NotFoundError) as none_yet:
        case_rating(CITIZEN, case_no, city.uow)
    assert none_yet.value.code == "rating.not_found"
    done = rate_case(RateCase(CITIZEN, case_no, 4, "处理及时"), city.uow, city.clock)
    assert (done.case_no, done.score, done.comment, done.rated_by) == (case_no, 4, "处理及时", CITIZEN.username)
    assert city.uow.committed
    for viewer in (CITIZEN, LEADER):
        found = case_rating(viewer, case_no, city.uow)
        assert (found.score, found.comment, found.rated_at) == (4, "处理及时", done.rated_at)
    with pytest.raises(ConflictError) as twice:
        rate_case(RateCase(CITIZEN, case_no, 5), city.uow, city.clock)
    assert twice.value.code == "rating.duplicate"
    with city.uow:
        audited = city.uow.audit.recent(action=RATED)
    assert [(a[2], a[4], a[6]) for a in audited] == [(CITIZEN.username, case_no, {"score": 4, "comment": "处理及时"})]


def test_only_the_reporter_rates_and_only_once_closed(city: City) -> None:  # noqa: F811
    case_no = citizens_case(city, close=False)
    with pytest.raises(ConflictError) as early:
        rate_case(RateCase(CITIZEN, case_no, 4), city.uow, city.clock)
    assert early.value.code == "rating.not_closed"
    with pytest.raises(ForbiddenError) as staff:
        rate_case(RateCase(LEADER, case_no, 4), city.uow, city.clock)
    assert staff.value.code == "rating.citizen_only"
    with pytest.raises(NotFoundError) as not_theirs:
        rate_case(RateCase(NEIGHBOUR, case_no, 4), city.uow, city.clock)
    assert not_theirs.value.code == "case.not_found"
    with pytest.raises(ForbiddenError):  # staff out of scope do not read it either
        case_rating(OTHER_DISTRICT, case_no, city.uow)
    for score, comment in ((0, ""), (6, ""), (3, "字" * 501)):
        with pytest.raises(InvalidInputError):
            RateCase(CITIZEN, case_no, score, comment)
