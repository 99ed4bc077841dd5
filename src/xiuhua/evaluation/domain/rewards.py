"""Rewards and penalties (奖惩): points per case outcome, per period ranking, per year, and a fund in yuan.

Three layers, as assessment schemes have them: each case outcome earns or loses points for the
department (per-problem), the period's grade and rank add points (overall), and a year adds the
months up and ranks them again (annual). A reward fund is shared out by net points, department by
department, then within a department over the entries that earned points, to the fen: every yuan names
the outcome (and case) that earned it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from xiuhua.kernel.errors import InvalidInputError

FEN = Decimal("0.01")
OUTCOMES = {
    "closed_on_time": "按期处置结案",
    "overdue": "超期处置",
    "reworked": "返工",
    "returned": "回退",
    "urged": "被督办",
    "grade": "综合等级",
    "rank": "综合排名",
    "annual_rank": "年度排名",
}


@dataclass(frozen=True, slots=True)
class RewardRules:
    version: str
    per_case: dict[str, float]
    by_grade: dict[str, float]
    by_rank: dict[int, float]
    annual_by_rank: dict[int, float]
    monthly_fund_yuan: Decimal
    annual_fund_yuan: Decimal

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RewardRules:
        try:
            rules = cls(
                version=str(body["version"]),
                per_case={str(k): float(v) for k, v in body["per_case"].items()},
                by_grade={str(k): float(v) for k, v in body.get("by_grade", {}).items()},
                by_rank={int(k): float(v) for k, v in body.get("by_rank", {}).items()},
                annual_by_rank={int(k): float(v) for k, v in body.get("annual_by_rank", {}).items()},
                monthly_fund_yuan=Decimal(str(body.get("monthly_fund_yuan", 0))),
                annual_fund_yuan=Decimal(str(body.get("annual_fund_yuan", 0))),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise InvalidInputError("reward.bad_rules", f"奖惩规则格式有误：{exc}") from None
        if unknown := set(rules.per_case) - set(OUTCOMES):
            raise InvalidInputError("reward.bad_rules", f"奖惩规则含未知结果：{'、'.join(sorted(unknown))}")
        if rules.monthly_fund_yuan < 0 or rules.annual_fund_yuan < 0:
            raise InvalidInputError("reward.bad_rules", "奖励资金不能为负")
        return rules


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the ledger: who, which layer, which outcome, which case (if any), points, yuan."""

    department: str
    layer: str  # case | overall | annual
    outcome: str
    case_no: str | None
    points: float
    yuan: Decimal = Decimal(0)
    period: str = ""


def _largest_remainder(weights: Sequence[float], total: Decimal) -> list[Decimal]:
    """Split ``total`` yuan over weights in whole fen, remainders to the largest fractions (ties: first)."""
    fen = int((total / FEN).to_integral_value(rounding=ROUND_DOWN))
    whole = sum(weights)
    if whole <= 0 or fen == 0:
        return [Decimal(0)] * len(weights)
    exact = [Decimal(repr(w)) / Decimal(repr(whole)) * fen for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[: fen - sum(floors)]:
        floors[i] += 1
    return [Decimal(f) * FEN for f in floors]


def allocate(entries: Sequence[Entry], fund: Decimal) -> list[Entry]:
    """Share the fund by departments' positive net points, then over each department's earning entries."""
    departments = sorted({e.department for e in entries})
    net = {d: sum(e.points for e in entries if e.department == d) for d in departments}
    shares = dict(zip(departments, _largest_remainder([max(net[d], 0.0) for d in departments], fund), strict=True))
    out = list(entries)
    for department in departments:
        earning = [i for i, e in enumerate(out) if e.department == department and e.points > 0]
        split = _largest_remainder([out[i].points for i in earning], shares[department])
        for i, yuan in zip(earning, split, strict=True):
            out[i] = replace(out[i], yuan=yuan)
    return out


def rank_points(rank: int | None, table: dict[int, float]) -> float:
    return table.get(rank, 0.0) if rank is not None else 0.0
