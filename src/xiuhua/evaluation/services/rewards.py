"""The reward ledger of a period: per-case points, ranking points, annual points, and the fund in yuan."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal
from importlib.resources import files
from typing import Any

import numpy as np

from xiuhua.evaluation.domain.model import ObjectType, Period, PeriodKind, Scheme
from xiuhua.evaluation.domain.rewards import Entry, RewardRules, allocate, rank_points
from xiuhua.evaluation.domain.scoring import rank
from xiuhua.evaluation.domain.tallies import TZ
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.kernel.ports import Progress, no_progress

# An approved appeal on an indicator excuses the case outcome that the indicator deducts for.
EXCUSED_OUTCOME = {"on_time_disposal_rate": "overdue", "rework_rate": "reworked", "close_rate": "overdue"}


def default_rules_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        files("xiuhua").joinpath("data", "evaluation", "rewards_default.json").read_text(encoding="utf-8")
    )
    return body


@dataclass(frozen=True, slots=True)
class DepartmentTotal:
    department: str
    name: str
    points: float
    yuan: Decimal


@dataclass(frozen=True, slots=True)
class RewardLedger:
    period: str
    rules_version: str
    fund_yuan: Decimal
    entries: list[Entry]
    totals: list[DepartmentTotal]


@dataclass(frozen=True, slots=True)
class ShowLedger:
    period: str
    rules: dict[str, Any] | None = None
    scheme: Scheme | None = None
    """Grade and rank every month by this scheme, computed now, instead of the result in force (what-if)."""


def reward_ledger(cmd: ShowLedger, uow: EvaluationUnitOfWork, progress: Progress = no_progress) -> RewardLedger:
    """Per-problem and overall entries of a period; for a year, every month's plus the annual ranking."""
    rules = RewardRules.from_dict(cmd.rules or default_rules_body())
    period = Period.parse(cmd.period)
    if period.kind is PeriodKind.YEAR:
        entries: list[Entry] = []
        for month in range(1, 13):
            progress(f"{period.key} 年 {month} 月", month - 1, 13)
            entries += _period_entries(Period.month(period.first.year, month), rules, uow, cmd.scheme)
        net: dict[str, float] = {}
        for e in entries:
            net[e.department] = net.get(e.department, 0.0) + e.points
        codes = sorted(net)
        ranks = dict(zip(codes, rank([net[c] for c in codes]), strict=True))
        for code in codes:
            if bonus := rank_points(ranks[code], rules.annual_by_rank):
                entries.append(Entry(code, "annual", "annual_rank", None, bonus, period=period.key))
        fund = rules.annual_fund_yuan
    else:
        progress(period.key, 0, 1)
        entries = _period_entries(period, rules, uow, cmd.scheme)
        fund = rules.monthly_fund_yuan
    allocated = allocate(entries, fund)
    with uow:
        names = uow.evaluation.names()
    totals: dict[str, tuple[float, Decimal]] = {}
    for e in allocated:
        points, yuan = totals.get(e.department, (0.0, Decimal(0)))
        totals[e.department] = (points + e.points, yuan + e.yuan)
    rows = [DepartmentTotal(d, names.get(d, d), round(p, 2), y) for d, (p, y) in totals.items()]
    rows.sort(key=lambda r: (-r.points, r.department))
    progress(period.key, 1, 1)
    return RewardLedger(period.key, rules.version, fund, allocated, rows)


def _period_entries(
    period: Period, rules: RewardRules, uow: EvaluationUnitOfWork, scheme: Scheme | None = None
) -> list[Entry]:
    if scheme is None:
        result = ev.evaluate(ev.Evaluate(period.key, trend_periods=0), uow)  # frozen, where frozen
    else:
        with uow:
            result = ev.compute(uow, period, scheme)
    with uow:
        inputs = ev.read_inputs(uow.evaluation, period)
        overdue = ev.overdue_cases(uow.evaluation, *period.bounds(TZ))
    excused = {(c, EXCUSED_OUTCOME.get(i, ""), n) for t, c, i, n in result.excused if t == ObjectType.DEPARTMENT}
    f = inputs.facts
    _, dept = ev.case_masks(f)
    outcomes = {
        "closed_on_time": dept["disposed_on_time"] & dept["closed"],
        "reworked": dept["reworked"],
        "urged": dept["urged"],
    }
    entries: list[Entry] = []
    for outcome, mask in outcomes.items():
        points = rules.per_case.get(outcome, 0.0)
        if not points:
            continue
        for i in np.flatnonzero(mask):
            department, case_no = str(f["department"][i]), str(f["case_no"][i])
            if (department, outcome, case_no) not in excused:
                entries.append(Entry(department, "case", outcome, case_no, points))
    if points := rules.per_case.get("returned", 0.0):
        entries += [Entry(d, "case", "returned", n, points) for d, n in inputs.returns if d]
    if points := rules.per_case.get("overdue", 0.0):  # in the month the deadline passed, whenever disposed
        entries += [Entry(d, "case", "overdue", n, points) for d, n in overdue if (d, "overdue", n) not in excused]
    for row in result.objects[ObjectType.DEPARTMENT.value]:
        if grade_points := rules.by_grade.get(row.grade, 0.0):
            entries.append(Entry(row.code, "overall", "grade", None, grade_points))
        if rank_bonus := rank_points(row.rank, rules.by_rank):
            entries.append(Entry(row.code, "overall", "rank", None, rank_bonus))
    entries = [replace(e, period=period.key) for e in entries]
    return sorted(entries, key=lambda e: (e.department, e.layer, e.outcome, e.case_no or ""))
