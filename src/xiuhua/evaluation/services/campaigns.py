"""Special campaigns: definitions, progress against targets per campaign and per unit, reported work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import files
from typing import Any

from xiuhua.cases.domain.commands import ActOnCase
from xiuhua.cases.domain.workflow import Action, State, transition_for
from xiuhua.evaluation.domain.campaigns import Campaign, TargetKind
from xiuhua.evaluation.domain.model import Period, PeriodKind
from xiuhua.evaluation.domain.scoring import rate, round_half_up
from xiuhua.evaluation.domain.tallies import TZ
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.kernel.actor import Actor
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock

URGEABLE = tuple(s.value for s in State if transition_for(s, Action.URGE))


def default_campaign_bodies() -> list[dict[str, Any]]:
    text = files("xiuhua").joinpath("data", "evaluation", "campaigns_default.json").read_text(encoding="utf-8")
    bodies: list[dict[str, Any]] = json.loads(text)["campaigns"]
    return bodies


def load_campaigns(uow: EvaluationUnitOfWork) -> list[Campaign]:
    """The stored campaigns, or the packaged eleven when none are stored."""
    with uow:
        bodies = uow.evaluation.campaigns() or default_campaign_bodies()
    return sorted((Campaign.from_dict(b) for b in bodies), key=lambda c: c.code)


def get_campaign(code: str, uow: EvaluationUnitOfWork) -> Campaign:
    for campaign in load_campaigns(uow):
        if campaign.code == code:
            return campaign
    raise NotFoundError("campaign.not_found", f"专项整治“{code}”不存在", code=code)


@dataclass(frozen=True, slots=True)
class PutCampaign:
    body: dict[str, Any]
    actor: str


def put_campaign(cmd: PutCampaign, uow: EvaluationUnitOfWork, clock: Clock) -> Campaign:
    """Add or change a campaign (the packaged ones are stored first, so none is lost)."""
    campaign = Campaign.from_dict(cmd.body)
    with uow:
        if not uow.evaluation.campaigns():
            for body in default_campaign_bodies():
                uow.evaluation.put_campaign(body["code"], body, clock.now(), cmd.actor)
        uow.evaluation.put_campaign(campaign.code, cmd.body, clock.now(), cmd.actor)
        uow.commit()
    return campaign


@dataclass(frozen=True, slots=True)
class RecordWork:
    campaign: str
    unit_code: str
    done_on: date
    amount: float
    note: str
    actor: str


def record_work(cmd: RecordWork, uow: EvaluationUnitOfWork, clock: Clock) -> None:
    """A unit reports work towards a quantity target (km of wires put underground, m² of facades)."""
    campaign = get_campaign(cmd.campaign, uow)
    if not any(t.kind is TargetKind.QUANTITY for t in campaign.targets):
        raise InvalidInputError("campaign.no_quantity_target", f"“{campaign.name}”没有工作量目标")
    if cmd.amount <= 0:
        raise InvalidInputError("campaign.bad_amount", "工作量须为正数")
    if not campaign.start <= cmd.done_on <= campaign.end:
        raise InvalidInputError("campaign.outside_window", f"{cmd.done_on} 不在“{campaign.name}”的时间范围内")
    with uow:
        if uow.organizations.kind_of(cmd.unit_code) is None:
            raise NotFoundError("campaign.unknown_unit", f"单位 {cmd.unit_code} 不存在")
        uow.evaluation.add_progress(
            {"campaign_code": campaign.code, "unit_code": cmd.unit_code, "done_on": cmd.done_on,
             "amount": cmd.amount, "note": cmd.note, "reported_at": clock.now(), "reported_by": cmd.actor}
        )  # fmt: skip
        uow.commit()


@dataclass(frozen=True, slots=True)
class TargetProgress:
    name: str
    kind: str
    goal: float
    actual: float | None
    achievement: float | None
    numerator_cases: list[str] = field(default_factory=list)
    denominator_cases: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnitProgress:
    unit: str
    name: str
    cases: int
    closed: int
    urged: int
    score: float | None
    targets: list[TargetProgress]


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    code: str
    name: str
    headquarters: str
    first_day: str
    last_day: str
    cases: int
    closed: int
    urged: int
    score: float | None
    targets: list[TargetProgress]
    units: list[UnitProgress]


@dataclass(frozen=True, slots=True)
class ShowProgress:
    campaign: str
    period: str | None = None
    """Clip the campaign's window to this period (default: the whole window)."""


_Row = tuple[str, str, str, tuple[str, str, str, str], datetime, datetime | None, str, int, datetime | None]


def campaign_progress(cmd: ShowProgress, uow: EvaluationUnitOfWork) -> CampaignProgress:
    """Progress and score of one campaign, and of each unit (department) that handled its cases."""
    campaign = get_campaign(cmd.campaign, uow)
    first, last = campaign.start, campaign.end
    if cmd.period:
        period = Period.parse(cmd.period)
        first, last = max(first, period.first), min(last, period.last)
    start, end = Period(PeriodKind.RANGE, first, max(first, last)).bounds(TZ)
    with uow:
        rows = [r for r in uow.evaluation.campaign_cases([(k.value, p) for k, p in campaign.classes], start, end)
                if campaign.in_scope(r[1], r[2], r[3])]  # fmt: skip
        work = uow.evaluation.progress_amounts(campaign.code, first, last)
        names = uow.evaluation.names()
    targets = _targets(campaign, rows, sum(a for _, a, _ in work))
    units = []
    for unit in sorted({r[6] for r in rows if r[6]} | {u for u, _, _ in work}):
        mine = [r for r in rows if r[6] == unit]
        unit_targets = _targets(campaign, mine, sum(a for u, a, _ in work if u == unit))
        units.append(UnitProgress(unit, names.get(unit, unit), len(mine), sum(r[5] is not None for r in mine),
                                  sum(r[7] > 0 for r in mine), _score(unit_targets), unit_targets))  # fmt: skip
    units.sort(key=lambda u: (u.score is None, -(u.score or 0), u.unit))
    return CampaignProgress(
        campaign.code, campaign.name, campaign.headquarters, first.isoformat(), last.isoformat(), len(rows),
        sum(r[5] is not None for r in rows), sum(r[7] > 0 for r in rows), _score(targets), targets, units,
    )  # fmt: skip


def _targets(campaign: Campaign, rows: list[_Row], work: float) -> list[TargetProgress]:
    out = []
    for target in campaign.targets:
        if target.kind is TargetKind.QUANTITY:
            actual: float | None = work
            met: list[str] = []
            scope: list[str] = []
            goal = target.amount or 0.0
        else:
            scope = [r[0] for r in rows]
            if target.kind is TargetKind.DISPOSE_WITHIN:
                # put right in time: the disposal that was accepted (the case closed) came soon enough
                limit = timedelta(hours=target.hours or 0)
                met = [r[0] for r in rows if r[5] is not None and r[8] is not None and r[8] - r[4] <= limit]
            else:
                met = [r[0] for r in rows if r[5] is not None]
            actual = rate(len(met), len(scope))
            goal = target.share
        achieved = target.achievement(actual)
        out.append(TargetProgress(target.name, target.kind.value, goal, round_half_up(actual, 4),
                                  round_half_up(achieved, 4), met, scope))  # fmt: skip
    return out


def _score(targets: list[TargetProgress]) -> float | None:
    """Mean achievement of the targets that can be measured, as points out of 100."""
    measured = [t.achievement for t in targets if t.achievement is not None]
    return round_half_up(sum(measured) / len(measured) * 100, 2) if measured else None


@dataclass(frozen=True, slots=True)
class UrgeCampaign:
    campaign: str
    actor: Actor
    reason: str = ""


def urge_campaign(cmd: UrgeCampaign, uow: EvaluationUnitOfWork, clock: Clock, handle: Handle) -> list[str]:
    """专项督办: the headquarters urges every overdue open case of the campaign; returns those urged."""
    campaign = get_campaign(cmd.campaign, uow)
    reason = cmd.reason.strip() or f"{campaign.name}专项督办"
    with uow:
        found = uow.evaluation.overdue_open_cases([(k.value, p) for k, p in campaign.classes], URGEABLE)
    urged = []
    for case_no, kind, class_code, regions in found:
        if not campaign.in_scope(kind, class_code, regions):
            continue
        try:
            handle(ActOnCase(case_no, Action.URGE, cmd.actor, reason=reason), clock=clock)
        except ConflictError:
            continue  # moved on meanwhile (closed, or changed by someone else): nothing to urge now
        urged.append(case_no)
    return urged
