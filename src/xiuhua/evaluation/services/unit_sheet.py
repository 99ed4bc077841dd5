"""The month's results per unit, one row each, for where they are used: 文明单位动态管理 and the city
government's target management (目标管理) take a sheet, not a report.

Every evaluated unit (districts, streets, communities, unit grids, departments, posts) with its composite
index, grade and rank from the period's result (the frozen one where frozen), and, for the units the
reward rules pay, its points deducted, net points, award, deductions and net yuan, and what its deposit
covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xiuhua.evaluation.domain.model import ObjectType, Period, PeriodKind
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.evaluation.services import rewards
from xiuhua.kernel.ports import Progress, no_progress

HEADER = (
    "对象类型",
    "代码",
    "名称",
    "综合指数",
    "等级",
    "排名",
    "扣分",
    "奖惩得分",
    "奖励（元）",
    "扣款（元）",
    "净额（元）",
    "其中保证金扣缴（元）",
)


@dataclass(frozen=True, slots=True)
class UnitRow:
    object_type: ObjectType
    code: str
    name: str
    composite: float | None
    grade: str
    rank: int | None
    deducted: float | None
    """Points lost in the period (the sum of the ledger's negative entries); None where no ledger pays."""
    points: float | None
    award_yuan: Decimal | None
    deducted_yuan: Decimal | None
    yuan: Decimal | None
    from_deposit_yuan: Decimal | None

    def cells(self) -> tuple[object, ...]:
        return (self.object_type.label, self.code, self.name, self.composite, self.grade, self.rank,
                self.deducted, self.points, self.award_yuan, self.deducted_yuan, self.yuan,
                self.from_deposit_yuan)  # fmt: skip


def unit_sheet(period: str, uow: EvaluationUnitOfWork, progress: Progress = no_progress) -> list[UnitRow]:
    """One row per evaluated unit, ranked within its type; money for a month or a year."""
    when = Period.parse(period)
    result = ev.evaluate(ev.Evaluate(when.key, trend_periods=0), uow, progress)
    money: dict[tuple[ObjectType, str], tuple[float, float, Decimal, Decimal, Decimal, Decimal]] = {}
    if when.kind in (PeriodKind.MONTH, PeriodKind.YEAR):
        ledger = rewards.reward_ledger(rewards.ShowLedger(when.key), uow)
        lost: dict[tuple[ObjectType, str], float] = {}
        for e in ledger.entries:
            if e.points < 0:
                lost[e.key] = lost.get(e.key, 0.0) + e.points
        money = {
            (t.unit_type, t.code): (round(-lost.get((t.unit_type, t.code), 0.0), 2), t.points, t.award_yuan,
                                    t.deducted_yuan, t.yuan, t.from_deposit_yuan)
            for t in ledger.totals
        }  # fmt: skip
    rows, unpaid = [], (None,) * 6
    for kind in ObjectType:
        for o in sorted(result.objects.get(kind.value, []), key=lambda o: (o.rank is None, o.rank or 0, o.code)):
            rows.append(UnitRow(kind, o.code, o.name, o.composite, o.grade, o.rank, *money.get((kind, o.code), unpaid)))
    return rows
