"""The reward ledger of a period: per-case points, ranking points, annual points, and the money, for every kind
of evaluated unit."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal
from importlib.resources import files
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xiuhua.evaluation.domain.facts import CaseFacts
from xiuhua.evaluation.domain.model import REGION_TYPES, ObjectType, Period, PeriodKind, Scheme
from xiuhua.evaluation.domain.rewards import Entry, RewardRules, allocate, rank_points
from xiuhua.evaluation.domain.scoring import rank
from xiuhua.evaluation.domain.tallies import NOT_STAFF, TZ
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Progress, no_progress

# An approved appeal on an indicator excuses the case outcome that the indicator deducts for.
EXCUSED_OUTCOME = {
    "on_time_disposal_rate": "overdue",
    "on_time_close_rate": "overdue",
    "close_rate": "overdue",
    "rework_rate": "reworked",
    "repeat_rate": "repeated",
}
Pairs = list[tuple[str, str]]
"""(unit code, case number) of each case with an outcome."""


def default_rules_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        files("xiuhua").joinpath("data", "evaluation", "rewards_default.json").read_text(encoding="utf-8")
    )
    return body


@dataclass(frozen=True, slots=True)
class UnitTotal:
    unit_type: ObjectType
    code: str
    name: str
    points: float
    award_yuan: Decimal
    """What the unit receives from the fund."""
    deducted_yuan: Decimal
    """What its lost points cost, after the period's cap on deductions (a positive amount)."""
    yuan: Decimal
    """Net: the award less the deductions."""

    @property
    def from_deposit_yuan(self) -> Decimal:
        """The part of the deductions the award does not cover, taken from the unit's deposit (保证金)."""
        return max(-self.yuan, Decimal(0))


@dataclass(frozen=True, slots=True)
class RewardLedger:
    period: str
    rules_version: str
    fund_yuan: Decimal
    unallocated_yuan: Decimal
    """What of the fund no unit took (结余)."""
    entries: list[Entry]
    totals: list[UnitTotal]
    """Per unit, kinds in catalogue order, the best net points first."""


@dataclass(frozen=True, slots=True)
class ShowLedger:
    period: str
    rules: dict[str, Any] | None = None
    scheme: Scheme | None = None
    """Grade and rank every month by this scheme, computed now, instead of the result in force (what-if)."""


def reward_ledger(cmd: ShowLedger, uow: EvaluationUnitOfWork, progress: Progress = no_progress) -> RewardLedger:
    """A month: its per-problem and overall lines, the monthly fund shared. A year: each month's ledger, plus
    the annual ranking of every kind by the year's points with the annual fund shared over it."""
    rules = RewardRules.from_dict(cmd.rules or default_rules_body())
    period = Period.parse(cmd.period)
    if period.kind is PeriodKind.YEAR:
        entries: list[Entry] = []
        unallocated, fund = Decimal(0), Decimal(0)
        for month in range(1, 13):
            progress(f"{period.key} 年 {month} 月", month - 1, 13)
            monthly = allocate(_period_entries(Period.month(period.first.year, month), rules, uow, cmd.scheme),
                               rules.monthly_fund_yuan, rules)  # fmt: skip
            entries += monthly.entries
            unallocated += monthly.unallocated_yuan
            fund += rules.monthly_fund_yuan
        annual = allocate(_annual_entries(entries, rules, period.key), rules.annual_fund_yuan, rules)
        entries += annual.entries
        unallocated += annual.unallocated_yuan
        fund += rules.annual_fund_yuan
    else:
        progress(period.key, 0, 1)
        if period.kind is not PeriodKind.MONTH:
            raise InvalidInputError("reward.bad_period", f"奖惩按月或按年计算，{period.key} 不是月份或年份")
        done = allocate(_period_entries(period, rules, uow, cmd.scheme), rules.monthly_fund_yuan, rules)
        entries, unallocated, fund = done.entries, done.unallocated_yuan, rules.monthly_fund_yuan
    with uow:
        names = uow.evaluation.names()
    progress(period.key, 1, 1)
    return RewardLedger(period.key, rules.version, fund, unallocated, entries, _totals(entries, names))


def _totals(entries: list[Entry], names: dict[str, str]) -> list[UnitTotal]:
    sums: dict[tuple[ObjectType, str], tuple[float, Decimal, Decimal]] = {}
    for e in entries:
        points, award, deducted = sums.get(e.key, (0.0, Decimal(0), Decimal(0)))
        gained = e.yuan if e.layer != "adjustment" and e.yuan > 0 else Decimal(0)
        lost = -e.yuan if e.yuan < 0 else -e.yuan if e.layer == "adjustment" else Decimal(0)
        sums[e.key] = (points + e.points, award + gained, deducted + lost)
    order = list(ObjectType)
    rows = [UnitTotal(kind, code, names.get(code, code), round(p, 2), a, d, a - d)
            for (kind, code), (p, a, d) in sums.items()]  # fmt: skip
    rows.sort(key=lambda r: (order.index(r.unit_type), -r.points, r.code))
    return rows


def _annual_entries(entries: list[Entry], rules: RewardRules, year: str) -> list[Entry]:
    """年度奖惩: within each kind, the year's net points ranked, and the annual rank table applied."""
    net: dict[tuple[ObjectType, str], float] = {}
    for e in entries:
        net[e.key] = net.get(e.key, 0.0) + e.points
    out: list[Entry] = []
    for kind, unit_rules in rules.units.items():
        codes = sorted(code for k, code in net if k is kind)
        ranks = dict(zip(codes, rank([net[(kind, c)] for c in codes]), strict=True))
        for code in codes:
            if bonus := rank_points(ranks[code], unit_rules.annual_by_rank):
                out.append(Entry(kind, code, "annual", "annual_rank", None, bonus, period=year))
    return out


def _period_entries(
    period: Period, rules: RewardRules, uow: EvaluationUnitOfWork, scheme: Scheme | None = None
) -> list[Entry]:
    if scheme is None:
        result = ev.evaluate(ev.Evaluate(period.key, trend_periods=0), uow)  # frozen, where frozen
    else:
        with uow:
            result = ev.compute(uow, period, scheme)
    with uow:
        found = _case_outcomes(uow, period)
    excused = {(t, c, EXCUSED_OUTCOME.get(i, ""), n) for t, c, i, n in result.excused}
    entries: list[Entry] = []
    for kind, unit_rules in rules.units.items():
        for outcome, points in unit_rules.per_case.items():
            if not points:
                continue
            entries += [Entry(kind, code, "case", outcome, case_no, points)
                        for code, case_no in found[kind].get(outcome, [])
                        if (kind.value, code, outcome, case_no) not in excused]  # fmt: skip
        for row in result.objects.get(kind.value, []):
            if grade_points := unit_rules.by_grade.get(row.grade, 0.0):
                entries.append(Entry(kind, row.code, "overall", "grade", None, grade_points))
            if rank_bonus := rank_points(row.rank, unit_rules.by_rank):
                entries.append(Entry(kind, row.code, "overall", "rank", None, rank_bonus))
    entries = [replace(e, period=period.key) for e in entries]
    order = list(ObjectType)
    return sorted(entries, key=lambda e: (order.index(e.unit_type), e.unit, e.layer, e.outcome, e.case_no or ""))


def _case_outcomes(uow: EvaluationUnitOfWork, period: Period) -> dict[ObjectType, dict[str, Pairs]]:
    """Per kind of unit and per outcome, the (unit, case) pairs of the period: the per-problem layer's lines."""
    inputs = ev.read_inputs(uow.evaluation, period)
    f = inputs.facts
    region, dept = ev.case_masks(f)
    by_region = {"closed_on_time": region["closed_on_time"], "overdue": region["overdue_closed"],
                 **{o: region[o] for o in ("reworked", "returned", "urged", "special_urged", "repeated")}}  # fmt: skip
    out = {kind: {o: _pairs(f, ev.REGION_KEY[kind], m) for o, m in by_region.items()} for kind in REGION_TYPES}
    out[ObjectType.DEPARTMENT] = {
        "closed_on_time": _pairs(f, "department", dept["disposed_on_time"] & dept["closed"]),
        **{o: _pairs(f, "department", dept[o]) for o in ("reworked", "urged", "special_urged")},
        "returned": [(d, n) for d, n in inputs.returns if d],
        "overdue": ev.overdue_cases(uow.evaluation, *period.bounds(TZ)),  # in the month the deadline passed
    }
    posts = ev.post_masks(f)
    who, masks = posts[ObjectType.SUPERVISOR]
    out[ObjectType.SUPERVISOR] = {"valid_report": _pairs(f, who, masks["valid_reports"]),
                                  "missed": _missed(uow, f)}  # fmt: skip
    who, masks = posts[ObjectType.SHIFT_LEADER]
    out[ObjectType.SHIFT_LEADER] = {
        "inaccurate_filing": _pairs(f, who, masks["filed_cases"] & ~masks["accurate_filings"])
    }
    who, masks = posts[ObjectType.DISPATCHER]
    out[ObjectType.DISPATCHER] = {
        "inaccurate_dispatch": _pairs(f, who, masks["first_dispatches"] & ~masks["accurate_dispatches"])
    }
    out[ObjectType.ACCEPTOR] = {}
    return out


def _pairs(f: CaseFacts, column: str, mask: NDArray[np.bool_]) -> Pairs:
    return [(str(code), str(case_no)) for code, case_no in zip(f[column][mask], f["case_no"][mask], strict=True)
            if code and str(code) not in NOT_STAFF]  # fmt: skip


def _missed(uow: EvaluationUnitOfWork, f: CaseFacts) -> Pairs:
    """漏报: each public report verified true, against the supervisor who patrols its unit grid."""
    mask = ev.missed_mask(f)
    patrolled = uow.evaluation.grid_supervisors(sorted(set(f["grid_code"][mask])))
    return sorted((patrolled[g], str(n)) for n, g in zip(f["case_no"][mask], f["grid_code"][mask], strict=True)
                  if patrolled.get(g) and patrolled[g] not in NOT_STAFF)  # fmt: skip
