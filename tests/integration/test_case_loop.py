"""The closed loop through the services, on SQLite and PostgreSQL, with a controlled clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import Acted, ActOnCase, ReportCase, Reported
from xiuhua.cases.domain.workflow import Action, Source, State, TransitionNotAllowedError
from xiuhua.cases.services.audit import verify_log
from xiuhua.cases.services.deadlines import AUTO_URGE_REASON, sweep
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy, load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.actors import load_actor
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")
PHOTO = StoredFile("ab" * 32, "image/png", 100)
HERE = Location(114.3455, 34.807, "龙亭公园东门", "410202", "410202001", "410202001009", None, "B")


@dataclass
class City:
    uow: SqlUnitOfWork
    policy: CasePolicy
    clock: FakeClock

    def report(self, source: Source = Source.SUPERVISOR, code: str = "01001", **kw: Any) -> Reported:
        user = kw.pop("user", "supervisor_410202001")
        cmd = ReportCase(
            actor=load_actor(self.uow, user),
            source=source,
            kind=kw.pop("kind", ClassKind.COMPONENT),
            class_code=code,
            location=kw.pop("location", HERE),
            description=kw.pop("description", "井盖缺失，有安全隐患"),
            **kw,
        )
        return report_case(cmd, self.uow, self.clock, self.policy)

    def act(self, case_no: str, action: Action, user: str, minutes: float = 5, **kw: Any) -> Acted:
        self.clock.advance(minutes=minutes)
        cmd = ActOnCase(case_no, action, load_actor(self.uow, user), **kw)
        return act_on_case(cmd, self.uow, self.clock, self.policy)

    def case(self, case_no: str):  # type: ignore[no-untyped-def]
        with self.uow:
            return self.uow.cases.get(case_no)

    def standard_id(self, code: str = "01001", limit: str | None = None) -> int:
        with self.uow:
            for s in self.uow.catalog.standards():
                if s.code == code and (limit is None or str(s.limits.get("*")) == limit):
                    assert s.id is not None
                    return s.id
        raise AssertionError(f"no standard for {code} {limit}")

    def to_dispatched(self, case_no: str, limit: str = "2紧急工作时") -> str:
        """Accept, file and dispatch a supervisor's report; returns the department's handler username."""
        self.act(case_no, Action.ACCEPT, "acceptor1")
        self.act(case_no, Action.FILE, "shiftleader1", standard_id=self.standard_id(limit=limit))
        self.act(case_no, Action.DISPATCH, "dispatcher_410202")
        return "handler_" + self.case(case_no).department_code.lower()


@pytest.fixture
def city(uow: SqlUnitOfWork) -> City:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    return City(uow, load_policy(uow, holidays.statutory_days), FakeClock(datetime(2026, 3, 3, 9, 0, tzinfo=SH)))


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=SH)


def test_supervisor_report_runs_the_whole_loop(city: City) -> None:
    reported = city.report(photos=(PHOTO,))
    assert reported.created and reported.case_no.startswith("20260303")
    handler = city.to_dispatched(reported.case_no)
    case = city.case(reported.case_no)
    assert case.state is State.DISPATCHED
    assert case.department_code == "91410204BHJ5Q4X12M"  # the water company handles 供水井盖 city-wide
    assert case.due_at == at("2026-03-03 09:15") + timedelta(hours=2)  # 2 urgent hours from dispatch
    city.act(reported.case_no, Action.FEEDBACK, handler, minutes=60, photos=(PHOTO,))
    city.act(reported.case_no, Action.SEND_CHECK, "acceptor1")
    city.act(reported.case_no, Action.CHECK_PASS, "supervisor_410202001", minutes=20)
    done = city.act(reported.case_no, Action.CLOSE, "shiftleader1")
    assert done.state is State.CLOSED and done.seq == 8 and done.due_at is None
    case = city.case(reported.case_no)
    assert [(s.step.value, s.on_time) for s in case.steps] == [
        ("accept", True), ("file", True), ("dispatch", True), ("dispose", True),
        ("send_check", True), ("check", True), ("close", True),
    ]  # fmt: skip
    with city.uow:
        log = city.uow.cases.log(reported.case_no)
    assert [e.action for e in log] == [
        Action.REPORT, Action.ACCEPT, Action.FILE, Action.DISPATCH, Action.FEEDBACK,
        Action.SEND_CHECK, Action.CHECK_PASS, Action.CLOSE,
    ]  # fmt: skip
    assert log[0].attachments == (PHOTO.sha256,)
    assert log[3].data["suggested"] == case.department_code
    assert verify_log(city.uow).broken == []


def test_public_report_is_verified_before_filing(city: City) -> None:
    case_no = city.report(Source.PUBLIC, user="acceptor1", reporter="王女士", reporter_phone="13800000000").case_no
    with pytest.raises(TransitionNotAllowedError) as info:
        city.act(case_no, Action.ACCEPT, "acceptor1")
    assert "核实" in info.value.message
    city.act(case_no, Action.SEND_VERIFY, "acceptor1")
    assert city.act(case_no, Action.VERIFY, "supervisor_410202001").state is State.ACCEPTED


def test_refuted_report_can_only_be_voided(city: City) -> None:
    case_no = city.report(Source.HOTLINE, user="acceptor1").case_no
    city.act(case_no, Action.SEND_VERIFY, "acceptor1")
    city.act(case_no, Action.REFUTE, "supervisor_410202001", reason="现场未发现问题")
    with pytest.raises(TransitionNotAllowedError):
        city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id())
    with pytest.raises(InvalidInputError) as info:
        city.act(case_no, Action.VOID, "shiftleader1")
    assert info.value.code == "case.reason_required"
    assert city.act(case_no, Action.VOID, "shiftleader1", reason="核实不属实").state is State.VOIDED


def test_return_path_and_redispatch_are_counted(city: City) -> None:
    case_no = city.report().case_no
    city.act(case_no, Action.ACCEPT, "acceptor1")
    city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id(limit="2紧急工作时"))
    wrong = "11410202P6AA8MK023"  # 龙亭区城市管理局
    city.act(case_no, Action.DISPATCH, "dispatcher_410202", department_code=wrong)
    city.act(case_no, Action.RETURN, "handler_" + wrong.lower(), reason="不属于本单位职责")
    assert city.act(case_no, Action.APPROVE, "dispatcher_410202").state is State.FILED
    case = city.case(case_no)
    assert case.department_code is None and case.count("returns") == 1
    city.act(case_no, Action.DISPATCH, "dispatcher_410202")
    case = city.case(case_no)
    assert case.department_code == "91410204BHJ5Q4X12M"
    assert case.count("redispatches") == 1
    # The dispatcher may send a filed case back to the acceptor's side.
    other = city.report(location=HERE).case_no
    city.act(other, Action.ACCEPT, "acceptor1")
    city.act(other, Action.FILE, "shiftleader1", standard_id=city.standard_id())
    assert city.act(other, Action.RETURN, "dispatcher1", reason="立案条件选择有误").state is State.ACCEPTED


def test_extension_pauses_while_pending_and_extends_on_approval(city: City) -> None:
    case_no = city.report().case_no
    handler = city.to_dispatched(case_no, limit="2紧急工作时")
    due = city.case(case_no).due_at
    assert due == at("2026-03-03 11:15")
    pending = city.act(case_no, Action.REQUEST_EXTENSION, handler, reason="需协调管线单位", extension="1工作日")
    assert pending.due_at is None  # the clock stops while the dispatcher decides
    approved = city.act(case_no, Action.APPROVE, "dispatcher_410202", minutes=30)
    # 2 urgent hours shifted by the 30 min pending, then one working day (8 h) counted from there.
    assert approved.due_at == at("2026-03-04 11:45")
    assert city.case(case_no).count("extensions") == 1


def test_parking_stops_the_clock_until_resumed(city: City) -> None:
    case_no = city.report().case_no
    handler = city.to_dispatched(case_no)
    city.act(case_no, Action.REQUEST_PARK, handler, reason="需列入改造计划")
    parked = city.act(case_no, Action.APPROVE, "dispatcher_410202")
    assert parked.state is State.PARKED and parked.due_at is None
    resumed = city.act(case_no, Action.RESUME, "dispatcher_410202", minutes=24 * 60, reason="改造计划已下达")
    # Dispatched 09:15 with 2 urgent hours; 10 min ran before parking at 09:25, so 110 min remain.
    assert resumed.due_at == city.clock.now().astimezone(SH) + timedelta(minutes=110)


def test_failed_check_sends_the_case_back_to_the_same_department(city: City) -> None:
    case_no = city.report().case_no
    handler = city.to_dispatched(case_no)
    city.act(case_no, Action.FEEDBACK, handler, photos=(PHOTO,))
    city.act(case_no, Action.SEND_CHECK, "acceptor1")
    city.act(case_no, Action.CHECK_FAIL, "supervisor_410202001", reason="井盖未复位")
    with pytest.raises(TransitionNotAllowedError):
        city.act(case_no, Action.CLOSE, "shiftleader1")
    again = city.act(case_no, Action.REWORK, "shiftleader1", reason="核查未通过，返工")
    case = city.case(case_no)
    assert again.state is State.DISPATCHED and case.count("reworks") == 1
    assert case.department_code == "91410204BHJ5Q4X12M"
    with pytest.raises(InvalidInputError) as info:
        city.act(case_no, Action.FEEDBACK, handler)
    assert info.value.code == "case.no_photo"


def test_urging_by_leader_not_by_handler(city: City) -> None:
    case_no = city.report().case_no
    handler = city.to_dispatched(case_no)
    with pytest.raises(ForbiddenError):
        city.act(case_no, Action.URGE, handler, reason="催")
    city.act(case_no, Action.URGE, "leader", reason="群众反映强烈，请加快处置")
    assert city.case(case_no).count("urges") == 1
    with city.uow:
        orders = city.uow.connection.execute(text("select issued_by, reason from urge_orders")).all()
    assert orders == [("leader", "群众反映强烈，请加快处置")]


def test_self_disposal_is_audited_by_the_shift_leader(city: City) -> None:
    case_no = city.report(Source.SELF_DISPOSAL, photos=(PHOTO,)).case_no
    assert city.case(case_no).state is State.SELF_DISPOSED
    assert city.act(case_no, Action.CLOSE, "shiftleader1").state is State.CLOSED
    rejected = city.report(Source.SELF_DISPOSAL, location=HERE, photos=(PHOTO,)).case_no
    assert city.act(rejected, Action.REJECT, "shiftleader1", reason="照片不清").state is State.ACCEPTED


def test_scope_of_districts_and_departments(city: City) -> None:
    case_no = city.report().case_no
    city.act(case_no, Action.ACCEPT, "acceptor1")
    city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id())
    with pytest.raises(ForbiddenError) as info:
        city.act(case_no, Action.DISPATCH, "dispatcher_410203")  # 顺河 may not touch a 龙亭 case
    assert info.value.code == "case.out_of_scope"
    city.act(case_no, Action.DISPATCH, "dispatcher_410202")
    with pytest.raises(ForbiddenError):
        city.act(case_no, Action.FEEDBACK, "handler_11410202p6aa8mk023", photos=(PHOTO,))  # another department
    with pytest.raises(NotFoundError):
        city.act("20990101000001", Action.ACCEPT, "acceptor1")


def test_idempotent_intake(city: City) -> None:
    first = city.report(idempotency_key="app-7f3a")
    again = city.report(idempotency_key="app-7f3a")
    assert (again.case_no, again.created) == (first.case_no, False)
    with pytest.raises(InvalidInputError) as refused:  # the same key for another report
        city.report(idempotency_key="app-7f3a", description="另一处问题")
    assert refused.value.code == "case.idempotency_key_reused"
    with city.uow:
        assert sum(city.uow.cases.count_by("state").values()) == 1


def test_duplicates_suggested_and_merged(city: City) -> None:
    master = city.report().case_no
    near = Location(114.3457, 34.8071, "龙亭公园东门北侧", "410202", "410202001", "410202001009", None, "B")
    far = Location(114.36, 34.80, "别处", "410202", "410202001", "410202001009", None, "B")
    second = city.report(location=near)
    assert [no for no, _ in second.duplicates] == [master]
    assert city.report(location=far).duplicates == []
    assert city.report(code="01002", location=near).duplicates == []  # another class
    merged = city.act(second.case_no, Action.VOID, "acceptor1", reason="重复上报", duplicate_of=master)
    assert merged.state is State.VOIDED and city.case(second.case_no).duplicate_of == master


def test_repeated_problem_links_its_predecessor(city: City) -> None:
    first = city.report().case_no
    handler = city.to_dispatched(first)
    city.act(first, Action.FEEDBACK, handler, photos=(PHOTO,))
    city.act(first, Action.SEND_CHECK, "acceptor1")
    city.act(first, Action.CHECK_PASS, "supervisor_410202001")
    city.act(first, Action.CLOSE, "shiftleader1")
    city.clock.advance(days=10)
    assert city.report().repeat_of == first
    city.clock.advance(days=40)  # 50 days after closure: outside the 30-day window
    assert city.report().repeat_of is None


def test_overdue_and_automatic_urging_with_a_controlled_clock(city: City) -> None:
    case_no = city.report().case_no
    city.to_dispatched(case_no)  # due 11:15
    city.clock.set(at("2026-03-03 11:20"))
    first = sweep(city.uow, city.clock, city.policy)
    assert first.overdue == 1 and first.urged == []  # overdue, but not yet 2 working hours past due
    assert city.case(case_no).overdue
    with city.uow:
        marks = [e for e in city.uow.outbox.after(0, 1000) if e.type == "case.overdue"]
    assert [(e.case_no, e.payload["state"], e.district_code) for e in marks] == [(case_no, "dispatched", "410202")]
    assert sweep(city.uow, city.clock, city.policy).overdue == 0  # flagged once: no second mark for the stream
    city.clock.set(at("2026-03-03 15:20"))  # 11:15 + 2 working hours (lunch skipped) = 15:15
    second = sweep(city.uow, city.clock, city.policy)
    assert second.urged == [case_no]
    assert sweep(city.uow, city.clock, city.policy).urged == []  # once per step: idempotent
    with city.uow:
        log = city.uow.cases.log(case_no)
    assert log[-1].action is Action.URGE and log[-1].actor == "system" and log[-1].reason == AUTO_URGE_REASON
    assert city.case(case_no).count("urges") == 1


def test_filed_but_not_dispatched_by_end_of_day_is_flagged(city: City) -> None:
    case_no = city.report().case_no
    city.act(case_no, Action.ACCEPT, "acceptor1")
    city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id())
    city.clock.set(at("2026-03-03 17:59"))
    assert sweep(city.uow, city.clock, city.policy).overnight == []
    city.clock.set(at("2026-03-03 18:00"))
    assert sweep(city.uow, city.clock, city.policy).overnight == [case_no]
    assert city.case(case_no).overnight
    assert sweep(city.uow, city.clock, city.policy).overnight == []


def test_urgent_case_steps_use_continuous_hours(city: City) -> None:
    city.clock.set(at("2026-03-07 22:00"))  # a Saturday night
    case_no = city.report(urgency=Urgency.URGENT).case_no
    assert city.case(case_no).due_at == at("2026-03-07 22:15")
    normal = city.report(location=Location(114.30, 34.76, "远处", "410202", "410202001", "410202001009")).case_no
    assert city.case(normal).due_at == at("2026-03-09 08:15")


def test_unknown_class_and_stale_write(city: City) -> None:
    with pytest.raises(InvalidInputError) as info:
        city.report(code="99999")
    assert info.value.code == "case.unknown_class"
    case_no = city.report().case_no
    with city.uow:
        stale = city.uow.cases.get(case_no)
    city.act(case_no, Action.ACCEPT, "acceptor1")
    with city.uow, pytest.raises(ConflictError):
        city.uow.cases.save(stale)


def test_audit_catches_an_edited_and_a_removed_row(city: City) -> None:
    a = city.report().case_no
    b = city.report(location=Location(114.30, 34.76, "远处", "410202", "410202001", "410202001009")).case_no
    city.act(a, Action.ACCEPT, "acceptor1")
    city.act(b, Action.ACCEPT, "acceptor1")
    assert verify_log(city.uow).broken == []
    of_case = "case_id = (select id from cases where case_no = :n)"
    with city.uow:
        city.uow.connection.execute(text(f"update case_log set reason = '改过' where seq = 2 and {of_case}"), {"n": b})
        city.uow.commit()
    broken = verify_log(city.uow).broken
    assert [(x.case_no, x.seq) for x in broken] == [(b, 2)]
    with city.uow:
        city.uow.connection.execute(text(f"delete from case_log where seq = 2 and {of_case}"), {"n": a})
        city.uow.commit()
    assert [x.case_no for x in verify_log(city.uow).broken] == [a, b]


def test_parking_an_overdue_case_clears_overdue_and_the_sweep_copes(city: City) -> None:
    case_no = city.report().case_no
    handler = city.to_dispatched(case_no)  # due 11:15
    city.clock.set(at("2026-03-03 11:30"))
    assert sweep(city.uow, city.clock, city.policy).overdue == 1
    city.act(case_no, Action.REQUEST_PARK, handler, reason="需列入改造计划")
    city.act(case_no, Action.APPROVE, "dispatcher_410202")
    case = city.case(case_no)
    assert case.state is State.PARKED and case.due_at is None and not case.overdue
    city.clock.set(at("2026-03-05 10:00"))
    report = sweep(city.uow, city.clock, city.policy)
    assert report.urged == [] and report.overdue == 0


def test_case_events_are_handled_in_the_transaction_and_after_it(city: City) -> None:
    from xiuhua.bootstrap import messagebus
    from xiuhua.cases.domain.events import CaseReported, CaseTransitioned

    def boom(*_: Any) -> None:
        raise RuntimeError("boom")

    after: list[str] = []
    bus = messagebus()
    bus.after(CaseReported, lambda e: after.append(e.case.case_no))
    bus.after(CaseTransitioned, boom)  # fails after commit: logged, the case change stands
    city.uow.bus = bus
    case_no = city.report().case_no
    assert after == [case_no]
    assert city.act(case_no, Action.ACCEPT, "acceptor1").state is State.ACCEPTED
    bus.on(CaseTransitioned, boom)  # fails in the transaction: nothing of the change is written
    with pytest.raises(RuntimeError):
        city.act(case_no, Action.FILE, "shiftleader1", standard_id=city.standard_id())
    assert city.case(case_no).state is State.ACCEPTED
    with city.uow:
        assert [e.action for e in city.uow.cases.log(case_no)] == [Action.REPORT, Action.ACCEPT]
        assert [e.type for e in city.uow.outbox.after(0, 100) if e.case_no == case_no] == [
            "case.reported", "case.transitioned",
        ]  # fmt: skip
