"""Rewards and penalties (奖惩): the "1+1+8" layers, paid to every kind of evaluated unit, in points and yuan.

Three layers, as assessment schemes have them: each case outcome earns or loses points for the unit it
counts against (单个问题奖惩: per problem), the period's grade and rank add points (整体情况奖惩:
overall), and a year adds the months up and ranks them again (年度奖惩: annual). Each kind of unit
(districts, streets, communities, unit grids, departments and the four posts) has its own rules.

Money, to the fen, every yuan on a ledger line that names its case or ranking:
- The period's fund is split over the kinds of unit by their ``share``; within a kind, over the units by
  their positive net points; within a unit, over its earning lines by points. A unit's ``cap_yuan`` caps
  what it receives; what a cap holds back goes to the kind's other units, and what no unit can take stays
  in the fund (结余).
- A lost point costs ``yuan_per_penalty_point`` yuan (扣款), taken from the unit's award and, past it, from
  its deposit (保证金). ``max_deduction_yuan`` bounds a unit's deductions in one period: one adjustment line
  gives back the excess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from xiuhua.evaluation.domain.model import REGION_TYPES, ObjectType
from xiuhua.kernel.errors import InvalidInputError

FEN = Decimal("0.01")
OUTCOMES = {
    "closed_on_time": "按期处置结案",
    "overdue": "超期",
    "reworked": "返工",
    "returned": "回退",
    "urged": "被督办",
    "special_urged": "专项督办",
    "repeated": "反复发生",
    "valid_report": "有效上报",
    "missed": "漏报",
    "inaccurate_filing": "立案不准确（被退回）",
    "inaccurate_dispatch": "派遣不准确（被回退）",
    "grade": "综合等级",
    "rank": "综合排名",
    "annual_rank": "年度排名",
    "deduction_cap": "扣款封顶返还",
}
_REGION_OUTCOMES = frozenset({"closed_on_time", "overdue", "reworked", "returned", "urged", "special_urged",
                              "repeated"})  # fmt: skip
CASE_OUTCOMES: dict[ObjectType, frozenset[str]] = {
    **{kind: _REGION_OUTCOMES for kind in REGION_TYPES},
    ObjectType.DEPARTMENT: frozenset({"closed_on_time", "overdue", "reworked", "returned", "urged", "special_urged"}),
    ObjectType.SUPERVISOR: frozenset({"valid_report", "missed"}),
    ObjectType.ACCEPTOR: frozenset(),
    ObjectType.SHIFT_LEADER: frozenset({"inaccurate_filing"}),
    ObjectType.DISPATCHER: frozenset({"inaccurate_dispatch"}),
}
"""The per-problem outcomes each kind of unit can be scored on."""


def _yuan(value: Any, what: str) -> Decimal:
    amount = Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise InvalidInputError("reward.bad_rules", f"{what}须为非负金额")
    return amount.quantize(FEN)


@dataclass(frozen=True, slots=True)
class UnitRules:
    """The rules for one kind of unit."""

    per_case: dict[str, float]
    by_grade: dict[str, float]
    by_rank: dict[int, float]
    annual_by_rank: dict[int, float]
    share: float = 0.0
    """This kind's weight in the split of the fund over kinds (0: earns points, no money)."""
    yuan_per_penalty_point: Decimal = Decimal(0)
    """Yuan deducted per point lost (0: points only)."""
    cap_yuan: Decimal | None = None
    """The most one unit receives from the fund in a period."""
    max_deduction_yuan: Decimal | None = None
    """The most deducted from one unit in a period."""

    @classmethod
    def from_dict(cls, kind: ObjectType, body: dict[str, Any]) -> UnitRules:
        cap, floor = body.get("cap_yuan"), body.get("max_deduction_yuan")
        rules = cls(
            per_case={str(k): float(v) for k, v in body.get("per_case", {}).items()},
            by_grade={str(k): float(v) for k, v in body.get("by_grade", {}).items()},
            by_rank={int(k): float(v) for k, v in body.get("by_rank", {}).items()},
            annual_by_rank={int(k): float(v) for k, v in body.get("annual_by_rank", {}).items()},
            share=float(body.get("share", 0)),
            yuan_per_penalty_point=_yuan(body.get("yuan_per_penalty_point", 0), "每扣一分的扣款"),
            cap_yuan=None if cap is None else _yuan(cap, "奖励上限"),
            max_deduction_yuan=None if floor is None else _yuan(floor, "扣款上限"),
        )
        if unknown := set(rules.per_case) - CASE_OUTCOMES[kind]:
            raise InvalidInputError(
                "reward.bad_rules", f"{kind.label}的奖惩规则含未知或不适用的结果：{'、'.join(sorted(unknown))}"
            )
        if not 0 <= rules.share < float("inf"):
            raise InvalidInputError("reward.bad_rules", f"{kind.label}的资金份额须为非负数")
        return rules


@dataclass(frozen=True, slots=True)
class RewardRules:
    version: str
    units: dict[ObjectType, UnitRules]
    monthly_fund_yuan: Decimal
    annual_fund_yuan: Decimal

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RewardRules:
        """Rules per kind of unit under ``units``; a document with ``per_case`` at the top is departments' alone
        (the first format, which gave departments the whole fund)."""
        try:
            if "units" in body:
                units = {ObjectType.parse(k): UnitRules.from_dict(ObjectType.parse(k), v)
                         for k, v in body["units"].items()}  # fmt: skip
            elif "per_case" in body:
                flat = {**body, "share": 1}
                units = {ObjectType.DEPARTMENT: UnitRules.from_dict(ObjectType.DEPARTMENT, flat)}
            else:
                raise InvalidInputError("reward.bad_rules", "奖惩规则须有 units（按对象类型）或 per_case（仅部门）")
            rules = cls(
                version=str(body["version"]),
                units=units,
                monthly_fund_yuan=_yuan(body.get("monthly_fund_yuan", 0), "奖励资金"),
                annual_fund_yuan=_yuan(body.get("annual_fund_yuan", 0), "奖励资金"),
            )
        except InvalidInputError as exc:
            if exc.code == "reward.bad_rules":
                raise
            raise InvalidInputError("reward.bad_rules", f"奖惩规则格式有误：{exc.message}") from None
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise InvalidInputError("reward.bad_rules", f"奖惩规则格式有误：{exc!r}") from None
        return rules

    def for_kind(self, kind: ObjectType) -> UnitRules | None:
        return self.units.get(kind)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the ledger: which unit, which layer, which outcome, which case (if any), points, yuan."""

    unit_type: ObjectType
    unit: str
    layer: str  # case | overall | annual | adjustment
    outcome: str
    case_no: str | None
    points: float
    yuan: Decimal = Decimal(0)
    period: str = ""

    @property
    def key(self) -> tuple[ObjectType, str]:
        return self.unit_type, self.unit


@dataclass(frozen=True, slots=True)
class Allocation:
    entries: list[Entry]
    unallocated_yuan: Decimal
    """What of the fund no unit could take (no kind with points, or every unit at its cap): 结余."""


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


def _capped_split(net: dict[str, float], pot: Decimal, cap: Decimal | None) -> tuple[dict[str, Decimal], Decimal]:
    """Split ``pot`` over units by positive net points, none above ``cap``: a unit that would pass the cap
    gets the cap and the rest is split again over the others. Returns the shares and what is left over."""
    active = sorted(u for u, p in net.items() if p > 0)
    shares: dict[str, Decimal] = {}
    while active:
        rest = pot - sum(shares.values(), Decimal(0))
        split = dict(zip(active, _largest_remainder([net[u] for u in active], rest), strict=True))
        over = [u for u in active if cap is not None and split[u] > cap]
        if not over:
            shares.update(split)
            return shares, Decimal(0)
        for u in over:
            shares[u] = cap  # type: ignore[assignment]  # over is empty when cap is None
            active.remove(u)
    return shares, pot - sum(shares.values(), Decimal(0))


def _deduction(points: float, rate: Decimal) -> Decimal:
    return (Decimal(repr(points)) * rate).quantize(FEN, rounding=ROUND_HALF_UP)


def allocate(entries: Iterable[Entry], fund: Decimal, rules: RewardRules) -> Allocation:
    """Share the fund over kinds, units and earning lines, and price the lost points, to the fen."""
    out = list(entries)
    kinds = sorted(rules.units, key=list(ObjectType).index)
    paying = [k for k in kinds if rules.units[k].share > 0]
    pots = dict(zip(paying, _largest_remainder([rules.units[k].share for k in paying], fund), strict=True))
    left = fund - sum(pots.values(), Decimal(0))
    for kind in kinds:
        unit_rules = rules.units[kind]
        lines: dict[str, list[int]] = {}
        for i, e in enumerate(out):
            if e.unit_type is kind:
                lines.setdefault(e.unit, []).append(i)
        net = {u: sum(out[i].points for i in idx) for u, idx in lines.items()}
        shares, rest = _capped_split(net, pots.get(kind, Decimal(0)), unit_rules.cap_yuan)
        left += rest
        for unit, idx in sorted(lines.items()):
            earning = [i for i in idx if out[i].points > 0]
            split = _largest_remainder([out[i].points for i in earning], shares.get(unit, Decimal(0)))
            for i, yuan in zip(earning, split, strict=True):
                out[i] = replace(out[i], yuan=yuan)
            for i in idx:
                if out[i].points < 0:
                    out[i] = replace(out[i], yuan=_deduction(out[i].points, unit_rules.yuan_per_penalty_point))
            deducted = -sum((out[i].yuan for i in idx if out[i].yuan < 0), Decimal(0))
            limit = unit_rules.max_deduction_yuan
            if limit is not None and deducted > limit:
                period = out[idx[0]].period
                out.append(Entry(kind, unit, "adjustment", "deduction_cap", None, 0.0, deducted - limit, period))
    return Allocation(out, left)


def rank_points(rank: int | None, table: dict[int, float]) -> float:
    return table.get(rank, 0.0) if rank is not None else 0.0
