"""The case services on the in-memory fakes: reporting, acting, the deadline sweep and the scope check."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import (
    ACCEPTOR,
    CITY_DISPATCHER,
    DISPATCHER,
    HERE,
    ROADS,
    SHIFT_LEADER,
    SUPERVISOR,
    WATER,
    actor,
)
from xiuhua.cases.domain.commands import ActOnCase, ReportCase, Reported
from xiuhua.cases.domain.idempotency import IdempotencyKeyReusedError
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.access import access_case
from xiuhua.cases.services.deadlines import sweep
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.domain.model import ClassKind

PHOTO = StoredFile("ab" * 32, "image/png", 100)


def report_cmd(**overrides: Any) -> ReportCase:
    fields: dict[str, Any] = {
        "actor": SUPERVISOR, "source": Source.SUPERVISOR, "kind": ClassKind.COMPONENT, "class_code": "01001",
        "location": HERE, "description": "井盖缺失，有安全隐患",
    }  # fmt: skip
    fields.update(overrides)
    return ReportCase(**fields)


def report(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy, **overrides: Any) -> Reported:
    return report_case(report_cmd(**overrides), uow, clock, policy)


def act(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy, case_no: str, action: Action, who: Any, **kw: Any
) -> None:
    clock.advance(minutes=5)
    act_on_case(ActOnCase(case_no, action, who, **kw), uow, clock, policy)


# ----- reporting -------------------------------------------------------------------------------------
def test_a_report_opens_a_case_and_commits(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    done = report(uow, clock, policy, photos=(PHOTO, PHOTO))
    assert uow.committed and done.created and done.duplicates == [] and done.repeat_of is None
    assert done.case_no == "20260303000001"
    case = uow.cases.get(done.case_no)
    assert case is not None and case.state is State.REPORTED and case.reporter == "supervisor1"
    assert [e.type for e in uow.outbox.events] == ["case.reported"]
    assert list(uow.cases.photos) == [(case.id, "report", PHOTO.sha256)]


def test_a_retried_report_finds_its_case(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    first = report(uow, clock, policy, idempotency_key="abc")
    clock.advance(minutes=1)
    again = report(uow, clock, policy, idempotency_key="abc")
    assert again == Reported(first.case_no, created=False)
    assert uow.commits == 1 and not uow.committed  # the retry wrote nothing
    assert uow.cases.count_by("state") == {"reported": 1}


def test_a_key_reused_for_another_report_is_refused(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    first = report(uow, clock, policy, idempotency_key="abc")
    with pytest.raises(IdempotencyKeyReusedError) as err:
        report(uow, clock, policy, idempotency_key="abc", description="另一处问题")
    assert first.case_no in str(err.value.details) and not uow.committed
    assert uow.cases.count_by("state") == {"reported": 1}


def test_an_unknown_class_is_refused(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    with pytest.raises(InvalidInputError) as err:
        report(uow, clock, policy, class_code="09999")
    assert err.value.code == "case.unknown_class" and not uow.committed and uow.cases.rows == {}


def test_a_report_without_a_description_is_refused(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    with pytest.raises(InvalidInputError) as err:
        report(uow, clock, policy, description="  ")
    assert err.value.code == "case.no_description" and uow.commits == 0


def test_a_report_outside_the_reporters_area_is_forbidden(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    with pytest.raises(ForbiddenError) as err:
        report(uow, clock, policy, location=replace(HERE, street_code="410202002", community_code="410202002001"))
    assert err.value.code == "case.outside_your_area" and uow.commits == 0


def test_duplicates_nearby_are_suggested_within_the_reporters_scope(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    first = report(uow, clock, policy)
    clock.advance(minutes=10)
    second = report(uow, clock, policy, location=replace(HERE, lat=HERE.lat + 0.0002))
    assert second.created and uow.committed
    assert [(no, pytest.approx(22.2, abs=0.2)) for no, _ in second.duplicates] == [(first.case_no, 22.2)]
    assert second.nearby == 1
    # a case across the street line, a few metres away: counted nearby, but not shown to this street's reporter
    district = actor("supervisor9", Role.SUPERVISOR, "410202")
    across = report(uow, clock, policy, actor=district, location=replace(HERE, street_code="410202002"))
    assert {no for no, _ in across.duplicates} == {first.case_no, second.case_no}
    third = report(uow, clock, policy)
    assert third.nearby == 3 and {no for no, _ in third.duplicates} == {first.case_no, second.case_no}


# ----- acting ----------------------------------------------------------------------------------------
def filed(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> str:
    case_no = report(uow, clock, policy).case_no
    act(uow, clock, policy, case_no, Action.ACCEPT, ACCEPTOR)
    act(uow, clock, policy, case_no, Action.FILE, SHIFT_LEADER, standard_id=1)
    return case_no


def test_a_dispatch_moves_the_case_and_commits(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    case_no = filed(uow, clock, policy)
    before = uow.commits
    done = act_on_case(ActOnCase(case_no, Action.DISPATCH, DISPATCHER, department_code=WATER), uow, clock, policy)
    assert uow.committed and uow.commits == before + 1
    assert (done.state, done.department_code) == (State.DISPATCHED, WATER)
    case = uow.cases.get(case_no)
    assert case is not None and case.state is State.DISPATCHED and case.version == 4
    assert [e.action for e in uow.cases.log(case_no)] == [Action.REPORT, Action.ACCEPT, Action.FILE, Action.DISPATCH]
    assert uow.outbox.events[-1].type == "case.transitioned"


def test_an_action_the_role_may_not_take_is_forbidden(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    case_no = filed(uow, clock, policy)
    with pytest.raises(ForbiddenError) as err:
        act_on_case(ActOnCase(case_no, Action.DISPATCH, SUPERVISOR, department_code=WATER), uow, clock, policy)
    assert err.value.code == "case.role_denied" and not uow.committed
    assert uow.cases.get(case_no).state is State.FILED  # type: ignore[union-attr]


def test_a_dispatch_outside_the_departments_jurisdiction(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    case_no = filed(uow, clock, policy)
    with pytest.raises(ForbiddenError) as err:
        act_on_case(ActOnCase(case_no, Action.DISPATCH, DISPATCHER, department_code=ROADS), uow, clock, policy)
    assert err.value.code == "case.outside_jurisdiction" and not uow.committed
    with pytest.raises(ForbiddenError):  # a city-wide dispatcher, but without a reason
        act_on_case(ActOnCase(case_no, Action.DISPATCH, CITY_DISPATCHER, department_code=ROADS), uow, clock, policy)
    done = act_on_case(
        ActOnCase(case_no, Action.DISPATCH, CITY_DISPATCHER, department_code=ROADS, reason="跨区设施"),
        uow, clock, policy,
    )  # fmt: skip
    assert uow.committed and done.department_code == ROADS
    with pytest.raises(NotFoundError):
        act_on_case(ActOnCase(case_no, Action.DISPATCH, DISPATCHER, department_code="X"), uow, clock, policy)


# ----- the scope check --------------------------------------------------------------------------------
def test_access_finds_cases_in_scope_only(uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy) -> None:
    case_no = report(uow, clock, policy).case_no
    with uow:
        assert access_case(uow, DISPATCHER, case_no).case_no == case_no
        with pytest.raises(ForbiddenError) as err:
            access_case(uow, actor("dispatcher3", Role.DISPATCHER, "410203"), case_no)
        assert err.value.code == "case.out_of_scope"
        with pytest.raises(ForbiddenError):
            access_case(uow, actor("handler1", Role.HANDLER, None, ROADS), case_no)
        with pytest.raises(NotFoundError):
            access_case(uow, DISPATCHER, "20260303999999")


# ----- the sweep ---------------------------------------------------------------------------------------
def test_the_sweep_flags_overdue_cases_once_and_urges_them(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    case_no = filed(uow, clock, policy)
    act(uow, clock, policy, case_no, Action.DISPATCH, DISPATCHER, department_code=WATER)
    due = uow.cases.get(case_no).due_at  # type: ignore[union-attr]
    assert due is not None
    clock.advance(seconds=(due - clock.now()).total_seconds() + 60)
    first = sweep(uow, clock, policy)
    assert first.overdue == 1 and first.urged == [] and uow.committed
    assert [e.type for e in uow.outbox.events][-1] == "case.overdue"
    assert uow.cases.get(case_no).overdue  # type: ignore[union-attr]
    assert sweep(uow, clock, policy).overdue == 0
    clock.advance(days=3)
    later = sweep(uow, clock, policy)
    assert later.urged == [case_no]
    assert uow.cases.log(case_no)[-1].action is Action.URGE


def test_the_sweep_flags_cases_left_undispatched_overnight(
    uow: FakeUnitOfWork, clock: FakeClock, policy: CasePolicy
) -> None:
    case_no = filed(uow, clock, policy)
    clock.advance(days=1)
    assert sweep(uow, clock, policy).overnight == [case_no]
    assert uow.cases.get(case_no).overnight  # type: ignore[union-attr]
    assert sweep(uow, clock, policy).overnight == []
