"""The evaluation engine on hand-made cases, on SQLite and PostgreSQL: every figure computed by hand."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import Action, Source
from xiuhua.cases.services.deadlines import sweep
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy, load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.evaluation.domain.model import ObjectType, Period
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.evaluation.services import rewards
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.actors import load_actor
from xiuhua.unit_of_work import SqlUnitOfWork

SH = ZoneInfo("Asia/Shanghai")
HERE = Location(114.3455, 34.807, "龙亭公园东门", "410202", "410202001", "410202001009", None, "B")
WATER = "91410204BHJ5Q4X12M"  # the department the demo routes 01001 (供水井盖) to
SUPERVISOR, ACCEPTOR, LEADER, DISPATCHER = "supervisor_410202001", "acceptor1", "shiftleader1", "dispatcher_410202"


@dataclass
class City:
    uow: SqlUnitOfWork
    policy: CasePolicy
    clock: FakeClock
    photos: int = 0

    def report(self, source: Source = Source.SUPERVISOR, user: str = SUPERVISOR, **kw: Any) -> str:
        cmd = ReportCase(load_actor(self.uow, user), source, ClassKind.COMPONENT, "01001", HERE, "井盖缺失", **kw)
        return report_case(cmd, self.uow, self.clock, self.policy).case_no

    def act(self, case_no: str, action: Action, user: str, minutes: float = 5, **kw: Any) -> None:
        self.clock.advance(minutes=minutes)
        act_on_case(ActOnCase(case_no, action, load_actor(self.uow, user), **kw), self.uow, self.clock, self.policy)

    def standard(self) -> int:
        with self.uow:
            return next(s.id for s in self.uow.catalog.standards() if s.code == "01001" and s.id is not None)

    def dispatch(self, case_no: str, verify: bool = False) -> None:
        if verify:
            self.act(case_no, Action.SEND_VERIFY, ACCEPTOR)
            self.act(case_no, Action.VERIFY, SUPERVISOR)
        else:
            self.act(case_no, Action.ACCEPT, ACCEPTOR)
        self.act(case_no, Action.FILE, LEADER, standard_id=self.standard())
        self.act(case_no, Action.DISPATCH, DISPATCHER, department_code=WATER)

    def dispose_and_check(self, case_no: str, minutes: float = 60, passed: bool = True) -> None:
        self.photos += 1
        photo = StoredFile(f"{self.photos:064x}", "image/png", 100)
        self.act(case_no, Action.FEEDBACK, "handler_" + WATER.lower(), minutes=minutes, photos=(photo,))
        self.act(case_no, Action.SEND_CHECK, ACCEPTOR)
        if passed:
            self.act(case_no, Action.CHECK_PASS, SUPERVISOR)
        else:
            self.act(case_no, Action.CHECK_FAIL, SUPERVISOR, reason="仍未处置")


def make_city(uow: SqlUnitOfWork) -> City:
    """The demo city (no geometry) with a clock on Tuesday 2026-03-03 09:00."""
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    return City(uow, load_policy(uow, holidays.statutory_days), FakeClock(datetime(2026, 3, 3, 9, 0, tzinfo=SH)))


@pytest.fixture
def city(uow: SqlUnitOfWork) -> City:
    return make_city(uow)


@pytest.fixture
def march(city: City) -> dict[str, str]:
    return make_march(city)


def make_march(city: City) -> dict[str, str]:
    """Five reports in March: closed on time, closed late, reworked then closed, still open, voided."""
    a, b, d = (city.report() for _ in range(3))
    c = city.report(Source.PUBLIC, user=ACCEPTOR, reporter="王女士")
    e = city.report()
    city.dispatch(a)
    city.dispose_and_check(a)
    city.act(a, Action.CLOSE, LEADER)
    city.dispatch(b)
    city.dispose_and_check(b, minutes=180)  # past the 2 urgent hours of 01001
    city.act(b, Action.CLOSE, LEADER)
    city.dispatch(c, verify=True)
    city.dispose_and_check(c, passed=False)
    city.act(c, Action.REWORK, LEADER, reason="返工")
    city.dispose_and_check(c)
    city.act(c, Action.CLOSE, LEADER)
    city.dispatch(d)
    city.act(e, Action.ACCEPT, ACCEPTOR)
    city.act(e, Action.VOID, LEADER, reason="重复上报")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _row(result: ev.EvaluationResult, kind: str, code: str) -> ev.ObjectResult:
    return next(r for r in result.objects[kind] if r.code == code)


def _evaluate(city: City, period: str = "2026-03", live: bool = False) -> ev.EvaluationResult:
    return ev.evaluate(ev.Evaluate(period, trend_periods=0, live=live), city.uow)


def test_region_indicators_match_the_hand_computation(city: City, march: dict[str, str]) -> None:
    result = _evaluate(city)
    for kind, code in (("district", "410202"), ("street", "410202001"), ("community", "410202001009")):
        row = _row(result, kind, code)
        assert row.counts["filed"] == 4  # a, b, c, d (e was voided before filing)
        assert row.counts["public_verified"] == 1  # c
        assert (row.counts["due_to_close"], row.counts["closed"], row.counts["closed_on_time"]) == (4, 3, 2)
        assert row.counts["overdue_closed"] == 1 and row.counts["reworked"] == 1
        assert row.values["close_rate"] == 0.75
        assert row.values["on_time_close_rate"] == 0.5
        assert row.values["supervision_report_rate"] == 0.25
        assert row.scores["supervision_report_rate"] == 75.0 and row.scores["filed_score"] == 100.0
        # 10 % × 75 + 20 % × 100 + 30 % × 75 + 40 % × 50
        assert row.composite == 70.0 and row.grade == "C" and row.rank == 1
    assert result.cases == 4


def test_department_indicators_match_the_hand_computation(city: City, march: dict[str, str]) -> None:
    row = _row(_evaluate(city), "department", WATER)
    assert row.counts["dispatched"] == 4 and row.counts["to_dispose"] == 4
    assert (row.counts["disposed"], row.counts["disposed_on_time"], row.counts["closed"]) == (3, 2, 3)
    assert row.counts["reworked"] == 1 and row.counts["overdue"] == 1
    assert row.values == {"filed_score": 4.0, "close_rate": 0.75, "on_time_disposal_rate": 0.5,
                          "rework_rate": 0.3333, "overdue_count": 1.0, "special_urge_count": 0.0}  # fmt: skip
    # 10 % × 100 + 30 % × 75 + 30 % × 50 + 30 % × (1 − 1/3) × 100
    assert row.composite == 67.5 and row.grade == "C"


def test_post_indicators_match_the_hand_computation(city: City, march: dict[str, str]) -> None:
    result = _evaluate(city)
    supervisor = _row(result, "supervisor", SUPERVISOR)
    assert (supervisor.counts["reports"], supervisor.counts["valid_reports"]) == (4, 3)  # a, b, d of a, b, d, e
    assert (supervisor.counts["verify_tasks"], supervisor.counts["check_tasks"]) == (1, 4)
    assert supervisor.values["valid_report_rate"] == 0.75
    assert supervisor.values["missed_rate"] == 0.0  # no unit grids: nothing the public found first
    acceptor = _row(result, "acceptor", ACCEPTOR)
    assert acceptor.counts["accepted"] == 5 and acceptor.counts["check_sends"] == 4
    assert acceptor.values["verify_send_on_time_rate"] == 0.0  # c waited hours before its 核实 was sent
    assert acceptor.values["check_send_on_time_rate"] == 1.0
    leader = _row(result, "shift_leader", LEADER)
    assert (leader.counts["filings"], leader.counts["closings"], leader.counts["filed_cases"]) == (4, 3, 4)
    assert leader.values["accurate_filing_rate"] == 1.0
    dispatcher = _row(result, "dispatcher", DISPATCHER)
    assert dispatcher.counts["dispatches"] == 4 and dispatcher.values["accurate_dispatch_rate"] == 1.0


def test_every_value_drills_down_to_its_cases(city: City, march: dict[str, str]) -> None:
    m = march
    found = ev.drill(ev.Drill("2026-03", "district", "410202", "close_rate"), city.uow)
    assert found.numerator_cases == sorted([m["a"], m["b"], m["c"]])
    assert found.denominator_cases == sorted([m["a"], m["b"], m["c"], m["d"]])
    assert found.deducted_cases == [m["d"]]  # due but not closed
    late = ev.drill(ev.Drill("2026-03", "department", WATER, "on_time_disposal_rate"), city.uow)
    assert late.numerator_cases == sorted([m["a"], m["c"]])
    assert late.deducted_cases == sorted([m["b"], m["d"]])
    rework = ev.drill(ev.Drill("2026-03", "department", WATER, "rework_rate"), city.uow)
    assert rework.numerator_cases == [m["c"]] and rework.deducted_cases == [m["c"]]  # lower is better
    assert ev.drill(ev.Drill("2026-03", "department", WATER, "filed_score"), city.uow).deducted_cases == []
    checks = ev.drill(ev.Drill("2026-03", "supervisor", SUPERVISOR, "check_on_time_rate"), city.uow)
    assert checks.denominator_cases == sorted([m["a"], m["b"], m["c"], m["c"]])
    result = _evaluate(city)
    for kind in ("district", "department", "supervisor", "acceptor", "shift_leader", "dispatcher"):
        for row in result.objects[kind]:
            for ind in ev.INDICATORS[ev.ObjectType(kind)]:
                if ind.denominator:
                    cases = ev.drill(ev.Drill("2026-03", kind, row.code, ind.code), city.uow)
                    assert len(cases.numerator_cases) == row.counts[ind.numerator]
                    assert len(cases.denominator_cases) == row.counts[ind.denominator]
    with pytest.raises(InvalidInputError) as info:
        ev.drill(ev.Drill("2026-03", "district", "410202", "no_such"), city.uow)
    assert info.value.code == "evaluation.unknown_indicator"


def test_an_empty_period_has_no_objects_and_no_grades(city: City) -> None:
    result = _evaluate(city, "2026-02")
    assert result.cases == 0 and all(rows == [] for rows in result.objects.values())


def test_results_recompute_byte_identically_and_ignore_later_events(city: City, march: dict[str, str]) -> None:
    city.clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    sweep(city.uow, city.clock, city.policy)  # as the worker does every minute: d is flagged overdue
    first = ev.canonical_json(_evaluate(city))
    assert ev.canonical_json(_evaluate(city)) == first
    assert _row(_evaluate(city), "department", WATER).counts["overdue"] == 2  # b, disposed late; d, still open
    city.dispose_and_check(march["d"])  # April: d is disposed late, after the month ended
    city.report()
    assert ev.canonical_json(_evaluate(city)) == first  # d stays counted in March, where it became late
    april = _evaluate(city, "2026-04")
    assert [r.code for r in april.objects["district"]] == []  # d was filed in March; the new report is not filed
    assert _row(april, "supervisor", SUPERVISOR).counts["reports"] == 1


def test_periods_of_every_kind(city: City, march: dict[str, str]) -> None:
    month = _row(_evaluate(city), "district", "410202").counts
    for period in ("2026-03-03", "2026-W10", "2026-Q1", "2026", "2026-03-01~2026-03-31"):
        assert _row(_evaluate(city, period), "district", "410202").counts == month
    assert _evaluate(city, "2026-03-04").cases == 0
    for bad in (
        "2026-13",
        "2026-W60",
        "yesterday",
        "2026-03-31~2026-03-01",
        "2000-01-01~4000-01-01",
        "0001",
        "9999-12",
    ):
        with pytest.raises(InvalidInputError) as info:
            _evaluate(city, bad)
        assert info.value.code == "evaluation.bad_period"


def test_a_month_is_evaluated_under_the_scheme_in_force(city: City, march: dict[str, str]) -> None:
    body = ev.default_scheme_body()
    body = {**body, "version": "2026-04", "valid_from": "2026-04-01",
            "objects": {**body["objects"], "district": {"weights": {"close_rate": 1.0}}}}  # fmt: skip
    ev.add_scheme(ev.AddScheme(body, "admin"), city.uow, city.clock)
    march_result = _evaluate(city)
    assert march_result.scheme_version == "default-1"
    assert _row(march_result, "district", "410202").composite == 70.0
    city.clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    city.dispatch(city.report())
    april = _evaluate(city, "2026-04")
    assert april.scheme_version == "2026-04"
    assert _row(april, "district", "410202").composite == 0.0  # only 结案率 counts now: 0 of 1 closed
    with pytest.raises(ConflictError):
        ev.add_scheme(ev.AddScheme(body, "admin"), city.uow, city.clock)
    with pytest.raises(InvalidInputError) as info:
        ev.add_scheme(ev.AddScheme({**body, "version": "x", "objects": {"district": {"weights": {"bogus": 1}}}},
                                   "admin"), city.uow, city.clock)  # fmt: skip
    assert info.value.code == "evaluation.bad_scheme"


def test_freeze_appeal_and_audit(city: City, march: dict[str, str]) -> None:
    with pytest.raises(ConflictError) as early:
        ev.freeze_period(ev.FreezePeriod("2026-03", "admin"), city.uow, city.clock)
    assert early.value.code == "evaluation.period_open"
    appeal = ev.FileAppeal("2026-03", "department", WATER, "on_time_disposal_rate", march["b"], "暴雨停工", "water")
    city.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=SH))
    with pytest.raises(ConflictError) as not_frozen:
        ev.file_appeal(appeal, city.uow, city.clock)
    assert not_frozen.value.code == "evaluation.not_frozen"
    sha = ev.freeze_period(ev.FreezePeriod("2026-03", "admin"), city.uow, city.clock)
    with pytest.raises(ConflictError):
        ev.freeze_period(ev.FreezePeriod("2026-03", "admin"), city.uow, city.clock)
    frozen = _evaluate(city)
    assert frozen.revision == 1
    with pytest.raises(InvalidInputError) as not_deducted:
        ev.file_appeal(replace(appeal, case_no=march["a"]), city.uow, city.clock)
    assert not_deducted.value.code == "evaluation.not_a_deduction"
    appeal_id = ev.file_appeal(appeal, city.uow, city.clock)
    with pytest.raises(ConflictError):
        ev.file_appeal(appeal, city.uow, city.clock)
    done = ev.decide_appeal(ev.DecideAppeal(appeal_id, True, "属实，暴雨停工", "director"), city.uow, city.clock)
    assert (done.status, done.revision, done.before, done.after) == ("approved", 2, 0.5, 0.6667)  # 2/4 → 2/3
    revised = _evaluate(city)
    assert revised.revision == 2 and revised.excused == [["department", WATER, "on_time_disposal_rate", march["b"]]]
    water = _row(revised, "department", WATER)
    assert water.values["on_time_disposal_rate"] == 0.6667
    assert water.values["close_rate"] == 0.75  # other indicators keep the case
    assert _row(revised, "district", "410202").values == _row(frozen, "district", "410202").values
    live = ev.evaluate(ev.Evaluate("2026-03", trend_periods=0, live=True), city.uow)
    assert _row(live, "department", WATER).values["on_time_disposal_rate"] == 0.5  # the log itself is unchanged
    with pytest.raises(ConflictError) as twice:
        ev.decide_appeal(ev.DecideAppeal(appeal_id, False, "再议", "director"), city.uow, city.clock)
    assert twice.value.code == "evaluation.appeal_decided"
    with pytest.raises(NotFoundError):
        ev.decide_appeal(ev.DecideAppeal(999, True, "无", "director"), city.uow, city.clock)
    rework = ev.FileAppeal("2026-03", "department", WATER, "rework_rate", march["c"], "设计缺陷", "water")
    rejected = ev.decide_appeal(
        ev.DecideAppeal(ev.file_appeal(rework, city.uow, city.clock), False, "理由不足", "director"),
        city.uow, city.clock,
    )  # fmt: skip
    assert (rejected.status, rejected.revision, rejected.after) == ("rejected", 2, 0.3333)
    trail = ev.audit_trail("2026-03", city.uow)
    assert [r["action"] for r in trail] == ["freeze", "appeal", "approve", "appeal", "reject"]
    assert trail[0]["after_sha256"] == sha and trail[2]["before_sha256"] == sha
    assert trail[2]["after_sha256"] != sha


DEPARTMENTS_ONLY = {  # the first format of reward rules: departments alone, the whole fund theirs
    "version": "departments-1", "per_case": {"closed_on_time": 1, "overdue": -2, "reworked": -1, "urged": -1},
    "by_grade": {"A": 20, "B": 10, "C": 0}, "by_rank": {"1": 15}, "annual_by_rank": {"1": 100},
    "monthly_fund_yuan": "100000.00", "annual_fund_yuan": "500000.00",
}  # fmt: skip


def test_reward_ledger_traces_every_yuan_and_follows_appeals(city: City, march: dict[str, str]) -> None:
    m = march
    ledger = rewards.reward_ledger(rewards.ShowLedger("2026-03", DEPARTMENTS_ONLY), city.uow)
    lines = sorted(((e.outcome, e.case_no or "", e.points) for e in ledger.entries), key=str)
    assert lines == sorted([
        ("closed_on_time", m["a"], 1.0), ("closed_on_time", m["c"], 1.0), ("overdue", m["b"], -2.0),
        ("reworked", m["c"], -1.0), ("rank", "", 15.0),
    ], key=str)  # fmt: skip
    assert sum(e.yuan for e in ledger.entries) == Decimal("100000.00")
    (total,) = ledger.totals
    assert (total.unit_type, total.code, total.points, total.yuan) == (ObjectType.DEPARTMENT, WATER, 14.0,
                                                                       Decimal("100000.00"))  # fmt: skip
    assert {e.case_no: e.yuan for e in ledger.entries if e.outcome == "closed_on_time"} == {
        m["a"]: Decimal("5882.35"), m["c"]: Decimal("5882.35")}  # fmt: skip
    # An approved appeal on b's late disposal removes b's penalty from the ledger.
    city.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=SH))
    ev.freeze_period(ev.FreezePeriod("2026-03", "admin"), city.uow, city.clock)
    appeal = ev.FileAppeal("2026-03", "department", WATER, "on_time_disposal_rate", m["b"], "停水", "water")
    ev.decide_appeal(ev.DecideAppeal(ev.file_appeal(appeal, city.uow, city.clock), True, "属实", "chief"),
                     city.uow, city.clock)  # fmt: skip
    after = rewards.reward_ledger(rewards.ShowLedger("2026-03", DEPARTMENTS_ONLY), city.uow)
    assert "overdue" not in {e.outcome for e in after.entries}
    assert after.totals[0].points == 16.0
    # A year: twelve monthly funds (only March's paid: no other month has points) and the annual fund.
    year = rewards.reward_ledger(rewards.ShowLedger("2026", DEPARTMENTS_ONLY), city.uow)
    assert year.fund_yuan == Decimal("1700000.00") and year.unallocated_yuan == Decimal("1100000.00")
    assert sum(e.yuan for e in year.entries) == Decimal("600000.00")
    assert ("annual", "annual_rank", 100.0, Decimal("500000.00")) in {
        (e.layer, e.outcome, e.points, e.yuan) for e in year.entries}  # fmt: skip


def test_the_default_rules_pay_districts_streets_departments_and_posts(city: City, march: dict[str, str]) -> None:
    m = march
    ledger = rewards.reward_ledger(rewards.ShowLedger("2026-03"), city.uow)
    lines = {(e.unit_type.value, e.unit, e.outcome, e.case_no or "", e.points, e.yuan) for e in ledger.entries}
    # The district: rank 1 (15 points) takes the districts' quarter of the fund; b closed late costs 0.5 × 100.
    assert {line for line in lines if line[0] == "district"} == {
        ("district", "410202", "rank", "", 15.0, Decimal("25000.00")),
        ("district", "410202", "overdue", m["b"], -0.5, Decimal("-50.00"))}  # fmt: skip
    # The street: its 15 % is 15,000 but a street's award is capped at 5,000; the rest stays in the fund.
    street = {line for line in lines if line[0] == "street"}
    assert street == {("street", "410202001", "rank", "", 8.0, Decimal("5000.00")),
                      ("street", "410202001", "overdue", m["b"], -0.5, Decimal("-10.00"))}  # fmt: skip
    # The department: capped at 30,000 over 1 + 1 + 15 points; b overdue and c reworked cost 2 × 50 and 1 × 50.
    water = next(t for t in ledger.totals if t.code == WATER)
    assert (water.points, water.award_yuan, water.deducted_yuan, water.yuan) == (
        14.0, Decimal("30000.00"), Decimal("150.00"), Decimal("29850.00"))  # fmt: skip
    # The supervisor: three valid reports (e was voided); no unit grids here, so nothing missed.
    mine = {(e.outcome, e.case_no) for e in ledger.entries if e.unit == SUPERVISOR and e.layer == "case"}
    assert mine == {("valid_report", m["a"]), ("valid_report", m["b"]), ("valid_report", m["d"])}
    assert {t.unit_type for t in ledger.totals} >= {ObjectType.DISTRICT, ObjectType.STREET, ObjectType.DEPARTMENT,
                                                     ObjectType.SUPERVISOR}  # fmt: skip
    awarded = sum((e.yuan for e in ledger.entries if e.yuan > 0 and e.layer != "adjustment"), Decimal(0))
    assert awarded + ledger.unallocated_yuan == ledger.fund_yuan == Decimal("100000.00")
    assert ledger.unallocated_yuan >= Decimal("30000.00")  # the street's and the department's caps held back


def test_monthly_tallies_equal_the_log_and_a_rebuild(city: City, march: dict[str, str]) -> None:
    city.clock.set(datetime(2026, 3, 31, 23, 30, tzinfo=SH))
    city.dispose_and_check(march["d"])  # d: disposed in March, closed in April
    city.clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    city.act(march["d"], Action.CLOSE, LEADER)
    city.dispatch(city.report(Source.PUBLIC, user=ACCEPTOR, reporter="李先生"), verify=True)
    for month in ("2026-03", "2026-04"):
        check = ev.check_tallies(month, city.uow)
        assert check.rows > 0 and check.differences == []
        tallied = _evaluate(city, month)
        days = Period.parse(month)
        from_log = _evaluate(city, f"{days.first}~{days.last}")
        assert tallied.objects == from_log.objects and tallied.hotspots == from_log.hotspots
    before = ev.canonical_json(_evaluate(city))
    assert ev.rebuild_tallies(city.uow) == 2
    assert ev.canonical_json(_evaluate(city)) == before
    assert _row(_evaluate(city), "department", WATER).counts["closed"] == 3  # d closed after March ended


def test_case_volume_per_10k_residents_where_the_population_is_known(city: City, march: dict[str, str]) -> None:
    with city.uow:
        city.uow.regions.set_populations({"410202": 80_000, "410202001": 16_000})
        city.uow.commit()
    result = _evaluate(city)
    assert _row(result, "district", "410202").values["volume_per_10k"] == 0.5  # 4 filed / 8 × 10,000
    assert _row(result, "street", "410202001").values["volume_per_10k"] == 2.5
    community = _row(result, "community", "410202001009")
    assert community.values["volume_per_10k"] is None and community.scores["volume_per_10k"] is None


def test_a_case_late_at_the_months_end_counts_there_once_whenever_it_is_disposed(
    city: City, march: dict[str, str]
) -> None:
    """超期 counts in the month the deadline passed: d, dispatched in March and still undisposed at its
    end, is March's, before and after its late disposal in April, and never April's; it drills down."""
    city.clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    sweep(city.uow, city.clock, city.policy)
    drilled = ev.drill(ev.Drill("2026-03", "department", WATER, "overdue_count"), city.uow)
    assert drilled.numerator_cases == sorted([march["b"], march["d"]])
    city.dispose_and_check(march["d"])
    assert _row(_evaluate(city), "department", WATER).counts["overdue"] == 2
    april = {r.code: r.counts for r in _evaluate(city, "2026-04").objects["department"]}
    assert april.get(WATER, {}).get("overdue", 0) == 0
    assert ev.drill(ev.Drill("2026-03", "department", WATER, "overdue_count"), city.uow) == drilled
    with city.uow:
        assert ev.check_tallies("2026-03", city.uow).differences == []
        assert ev.check_tallies("2026-04", city.uow).differences == []
    ledger = rewards.reward_ledger(rewards.ShowLedger("2026-03"), city.uow)
    overdue = sorted(e.case_no or "" for e in ledger.entries if e.outcome == "overdue" and e.unit == WATER)
    assert overdue == drilled.numerator_cases


def test_special_urging_is_counted_apart_from_the_timers(city: City, march: dict[str, str]) -> None:
    """专项督办 (a leader's or a campaign's urge) counts on its own; the deadline timer's urges only in 督办数."""
    city.clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=SH))
    sweep(city.uow, city.clock, city.policy)  # d has been overdue for days: the timer urges it
    with city.uow:
        assert [e.actor for e in city.uow.cases.log(march["d"]) if e.action is Action.URGE] == ["system"]
    counts = _row(_evaluate(city), "department", WATER).counts
    assert (counts["urged"], counts["special_urged"]) == (1, 0)
    city.act(march["d"], Action.URGE, LEADER, reason="专项整治：限期处置")
    row = _row(_evaluate(city), "department", WATER)
    assert (row.counts["urged"], row.counts["special_urged"]) == (1, 1)  # one case, urged both ways
    assert row.values["special_urge_count"] == 1.0
    district = _row(_evaluate(city), "district", "410202").counts
    assert district["special_urged"] == 1
    drilled = ev.drill(ev.Drill("2026-03", "department", WATER, "special_urge_count"), city.uow)
    assert drilled.numerator_cases == [march["d"]]
    with city.uow:
        assert ev.check_tallies("2026-03", city.uow).differences == []
