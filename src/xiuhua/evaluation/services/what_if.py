"""What-if: a past period recomputed under a draft scheme and/or draft reward rules, beside what is in force.

Before a city adopts new weights, bands or reward rules, it sees every rank, grade, composite and yuan
that would change, object by object. Both sides are computed now from the same cases, so the only
difference is the draft: the "in force" side uses the scheme in force for the period and the built-in
reward rules (or the ones the city passes as its current rules). Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xiuhua.evaluation.domain.model import ObjectType, Period, PeriodKind, Scheme, scheme_in_force
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.evaluation.services import rewards
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Progress, no_progress

FIELDS = ("rank", "grade", "composite")
"""What is compared for every evaluated object."""


@dataclass(frozen=True, slots=True)
class WhatIf:
    period: str
    scheme: dict[str, Any] | None = None
    """The draft scheme (the document ``xiuhua evaluation scheme-add`` takes); None keeps the one in force."""
    reward_rules: dict[str, Any] | None = None
    """Draft reward rules; None keeps the rules in force (a draft scheme still moves money by grade and rank)."""
    current_rules: dict[str, Any] | None = None
    """The rules in force, when the city does not use the built-in ones."""


@dataclass(frozen=True, slots=True)
class Change:
    object_type: str
    code: str
    name: str
    field: str
    """rank, grade, composite, points or yuan."""
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    period: str
    scheme_before: str
    scheme_after: str
    rules_before: str | None
    rules_after: str | None
    objects: int
    """Objects compared (evaluated objects, and departments in the ledger when money is compared)."""
    changes: list[Change]


def what_if(cmd: WhatIf, uow: EvaluationUnitOfWork, progress: Progress = no_progress) -> WhatIfReport:
    """Every rank, grade, composite, point and yuan that the drafts would change in the period."""
    if cmd.scheme is None and cmd.reward_rules is None:
        raise InvalidInputError("whatif.nothing", "请给出评价方案草案或奖惩规则草案（或两者）")
    period = Period.parse(cmd.period)
    draft = Scheme.from_dict(cmd.scheme) if cmd.scheme is not None else None
    progress(f"按现行方案计算 {period.key}", 0, 4)
    with uow:
        in_force = scheme_in_force(ev.load_schemes(uow), period)
        before = ev.compute(uow, period, in_force)
        progress(f"按方案草案计算 {period.key}", 1, 4)
        after = ev.compute(uow, period, draft) if draft is not None else before
    changes = _object_changes(before, after)
    objects = sum(len(v) for v in before.objects.values())
    rules_before = rules_after = None
    ledgered = period.kind in (PeriodKind.MONTH, PeriodKind.YEAR)  # rewards are kept by month and by year
    if cmd.reward_rules is not None and not ledgered:
        raise InvalidInputError("whatif.bad_period", f"奖惩按月或按年计算，{period.key} 不是月份或年份")
    if ledgered:  # a draft scheme moves money too, through grades and ranks
        progress("奖惩台账（现行）", 2, 4)
        old = rewards.reward_ledger(rewards.ShowLedger(period.key, cmd.current_rules, in_force), uow)
        progress("奖惩台账（草案）", 3, 4)
        drafted = rewards.ShowLedger(period.key, cmd.reward_rules or cmd.current_rules, draft or in_force)
        new = rewards.reward_ledger(drafted, uow)
        rules_before, rules_after = old.rules_version, new.rules_version
        money = _ledger_changes(old, new)
        objects += len({(t.unit_type, t.code) for t in (*old.totals, *new.totals)})
        changes += money
    progress("完成", 4, 4)
    return WhatIfReport(period.key, in_force.version, draft.version if draft else in_force.version, rules_before,
                        rules_after, objects, changes)  # fmt: skip


def _object_changes(before: ev.EvaluationResult, after: ev.EvaluationResult) -> list[Change]:
    out: list[Change] = []
    for kind in sorted(set(before.objects) | set(after.objects)):
        old = {o.code: o for o in before.objects.get(kind, [])}
        new = {o.code: o for o in after.objects.get(kind, [])}
        for code in sorted(set(old) | set(new)):
            a, b = old.get(code), new.get(code)
            name = (b or a).name  # type: ignore[union-attr]  # one of them is there
            for field in FIELDS:
                was, now = getattr(a, field, None), getattr(b, field, None)
                if was != now:
                    out.append(Change(kind, code, name, field, was, now))
    return out


def _ledger_changes(before: rewards.RewardLedger, after: rewards.RewardLedger) -> list[Change]:
    old = {(t.unit_type, t.code): t for t in before.totals}
    new = {(t.unit_type, t.code): t for t in after.totals}
    out: list[Change] = []
    order = list(ObjectType)
    for kind, code in sorted(set(old) | set(new), key=lambda k: (order.index(k[0]), k[1])):
        a, b = old.get((kind, code)), new.get((kind, code))
        name = (b or a).name  # type: ignore[union-attr]
        points = (a.points if a else 0.0, b.points if b else 0.0)
        yuan = (a.yuan if a else Decimal(0), b.yuan if b else Decimal(0))
        if points[0] != points[1]:
            out.append(Change(kind.value, code, name, "points", *points))
        if yuan[0] != yuan[1]:
            out.append(Change(kind.value, code, name, "yuan", *yuan))
    return out
