"""The citizen's rating on the in-memory fakes: only the reporter's own account, only once, only closed."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import ACCEPTOR, DISPATCHER, HERE, SHIFT_LEADER, SUPERVISOR, WATER, actor
from tests.unit.services.test_cases import PHOTO, act
from xiuhua.cases.domain.commands import ReportCase
from xiuhua.cases.domain.workflow import Action, Source
from xiuhua.cases.services.lifecycle import report_case
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.cases.services.rating import RATED, RateCase, case_rating, rate_case
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, ForbiddenError, NotFoundError
from xiuhua.org.domain.accounts import AccountKind, Principal
from xiuhua.org.domain.model import ClassKind

CITIZEN = Principal("citizen1", AccountKind.CITIZEN, frozenset({Role.CITIZEN}))
NEIGHBOUR = Principal("citizen2", AccountKind.CITIZEN, frozenset({Role.CITIZEN}))
STAFF = Principal("dispatcher1", AccountKind.STAFF, frozenset({Role.DISPATCHER}), "410202")
AWAY = Principal("dispatcher3", AccountKind.STAFF, frozenset({Role.DISPATCHER}), "410203")
HANDLER = actor("handler1", Role.HANDLER, None, WATER)


def citizens_case(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy, *, close: bool) -> str:
    """A citizen's report; closed through the whole loop when asked."""
    cmd = ReportCase(CITIZEN.actor, Source.PUBLIC, ClassKind.COMPONENT, "01001", HERE, "井盖缺失")
    case_no = report_case(cmd, uow, clock, policy).case_no
    if close:
        for action, who, extra in [
            (Action.SEND_VERIFY, ACCEPTOR, {}), (Action.VERIFY, SUPERVISOR, {}),
            (Action.FILE, SHIFT_LEADER, {"standard_id": 1}), (Action.DISPATCH, DISPATCHER, {"department_code": WATER}),
            (Action.FEEDBACK, HANDLER, {"photos": (PHOTO,)}), (Action.SEND_CHECK, ACCEPTOR, {}),
            (Action.CHECK_PASS, SUPERVISOR, {}), (Action.CLOSE, SHIFT_LEADER, {}),
        ]:  # fmt: skip
            act(uow, clock, policy, case_no, action, who, **extra)
    return case_no


def test_the_reporter_rates_a_closed_case_once(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    case_no = citizens_case(uow, clock, policy, close=True)
    rating = rate_case(RateCase(CITIZEN, case_no, 4, "处理及时"), uow, clock)
    assert (rating.score, rating.comment, rating.rated_by) == (4, "处理及时", "citizen1")
    assert case_rating(CITIZEN, case_no, uow) == rating == case_rating(STAFF, case_no, uow)
    assert [(action, target) for _, _, _, action, target, *_ in uow.audit.recent()] == [(RATED, case_no)]
    with pytest.raises(ConflictError) as err:
        rate_case(RateCase(CITIZEN, case_no, 1), uow, clock)
    assert err.value.code == "rating.duplicate" and uow.ratings.get(case_no) == rating


def test_only_the_reporter_and_staff_in_scope_see_it(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    case_no = citizens_case(uow, clock, policy, close=True)
    rate_case(RateCase(CITIZEN, case_no, 5), uow, clock)
    with pytest.raises(NotFoundError) as err:  # another citizen: as if the case did not exist
        rate_case(RateCase(NEIGHBOUR, case_no, 1), uow, clock)
    assert err.value.code == "case.not_found"
    with pytest.raises(NotFoundError):
        case_rating(NEIGHBOUR, case_no, uow)
    with pytest.raises(ForbiddenError) as denied:
        case_rating(AWAY, case_no, uow)
    assert denied.value.code == "case.out_of_scope"
    with pytest.raises(ForbiddenError) as staff:
        rate_case(RateCase(STAFF, case_no, 5), uow, clock)
    assert staff.value.code == "rating.citizen_only"


def test_an_open_case_cannot_be_rated(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    case_no = citizens_case(uow, clock, policy, close=False)
    commits = uow.commits
    with pytest.raises(ConflictError) as err:
        rate_case(RateCase(CITIZEN, case_no, 5), uow, clock)
    assert err.value.code == "rating.not_closed" and uow.commits == commits and uow.ratings.ratings == {}
    with pytest.raises(NotFoundError) as none:
        case_rating(CITIZEN, case_no, uow)
    assert none.value.code == "rating.not_found"
