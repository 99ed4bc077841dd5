"""Evaluation runs: indicators and composite indices per object for a period, drill-down, freezing, appeals.

Everything is computed from the case log as of the period's end (rows with ``at`` before it), in a few
set-based queries whose per-case results are grouped with numpy, so re-running gives the same numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from xiuhua.adapters.db.evaluation_repository import CaseFacts
from xiuhua.domain.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.domain.evaluation import (
    COUNT_LABELS,
    INDICATORS,
    POST_TYPES,
    REGION_TYPES,
    IndicatorKind,
    ObjectType,
    Period,
    Scheme,
    indicator,
    scheme_in_force,
)
from xiuhua.domain.scoring import (
    band_score,
    composite,
    grade,
    per_unit,
    rank,
    rate,
    rate_score,
    round_half_up,
)
from xiuhua.services.ports import Clock, Progress, UnitOfWork, no_progress

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_SCHEME = "scheme_default.json"
PUBLIC_SOURCES = ("public", "hotline")
PATROL_SOURCES = ("supervisor", "self_disposal")
REGION_KEY = {
    ObjectType.DISTRICT: "district_code",
    ObjectType.STREET: "street_code",
    ObjectType.COMMUNITY: "community_code",
    ObjectType.GRID: "grid_code",
}
NOT_STAFF = ("system", "import")  # the timer sweep and history imports act, but hold no post
HOTSPOT_DEGREES = 0.001  # about 100 m: repeated problems in one such cell form a hot spot
Exclusion = tuple[str, str, str, str]
"""(object type, object code, indicator, case number): a deduction excused by an approved appeal."""


# ----- DTOs ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObjectResult:
    code: str
    name: str
    rank: int | None
    composite: float | None
    grade: str
    counts: dict[str, int]
    values: dict[str, float | None]
    scores: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class Hotspot:
    lon: float
    lat: float
    cases: int
    class_code: str
    case_nos: list[str]


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    period: str
    first_day: str
    last_day: str
    scheme_version: str
    cases: int
    objects: dict[str, list[ObjectResult]]
    hotspots: list[Hotspot]
    trend: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    trend_periods: list[str] = field(default_factory=list)
    revision: int | None = None
    excused: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> EvaluationResult:
        return cls(
            **{
                **body,
                "objects": {k: [ObjectResult(**o) for o in v] for k, v in body["objects"].items()},
                "hotspots": [Hotspot(**h) for h in body["hotspots"]],
            }
        )


def canonical_json(result: EvaluationResult) -> str:
    """The result as JSON text that is byte-identical for identical results."""
    return json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True, indent=1)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----- schemes -------------------------------------------------------------------------------------
def default_scheme_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        files("xiuhua").joinpath("data", "evaluation", DEFAULT_SCHEME).read_text(encoding="utf-8")
    )
    return body


def load_schemes(uow: UnitOfWork) -> list[Scheme]:
    """The stored schemes; the packaged default when none is stored."""
    bodies = uow.evaluation.schemes() or [default_scheme_body()]
    return [Scheme.from_dict(b) for b in bodies]


@dataclass(frozen=True, slots=True)
class AddScheme:
    body: dict[str, Any]
    actor: str


def add_scheme(cmd: AddScheme, uow: UnitOfWork, clock: Clock) -> Scheme:
    """Store a new scheme version (never replaces one: months already evaluated keep theirs)."""
    scheme = Scheme.from_dict(cmd.body)
    with uow:
        if uow.evaluation.has_scheme(scheme.version):
            raise ConflictError("evaluation.scheme_exists", f"评价方案版本“{scheme.version}”已存在")
        if not uow.evaluation.schemes():  # keep the default in force for the months before the new one
            default = default_scheme_body()
            if default["version"] != scheme.version:
                uow.evaluation.add_scheme(
                    default["version"], Scheme.from_dict(default).valid_from, default, clock.now(), cmd.actor
                )
        uow.evaluation.add_scheme(scheme.version, scheme.valid_from, cmd.body, clock.now(), cmd.actor)
        uow.commit()
    return scheme


# ----- the engine ----------------------------------------------------------------------------------
@dataclass
class Inputs:
    facts: CaseFacts
    events: list[tuple[str, str, str | None, bool | None, int]]
    returns: list[tuple[str, str]]
    missed: list[tuple[str, str]]


def read_inputs(uow: UnitOfWork, period: Period) -> Inputs:
    start, end = period.bounds(TZ)
    ev = uow.evaluation
    return Inputs(
        ev.case_facts(start, end),
        ev.post_events(start, end),
        ev.returns_by_department(start, end),
        ev.missed_reports(start, end),
    )


def case_masks(f: CaseFacts) -> tuple[dict[str, NDArray[np.bool_]], dict[str, NDArray[np.bool_]]]:
    """Boolean masks over the facts' cases: the region counts, and the department counts."""
    parked_now = f["parks"] > f["resumes"]  # parked at the period's end: not yet due (挂账)
    late = f["late_feedbacks"] > 0
    closed = f["closed"] > 0
    region = f["filed_in"] > 0
    public = np.isin(f["source"], PUBLIC_SOURCES)
    by_region = {
        "filed": region,
        "public_verified": region & public & (f["verified"] > 0),
        "due_to_close": region & ~parked_now,
        "closed": region & closed,
        "closed_on_time": region & closed & ~late,
        "overdue_closed": region & closed & late,
        "reworked": region & (f["reworks"] > 0),
        "returned": region & (f["returns"] > 0),
        "extended": region & (f["extensions"] > 0),
        "parked": region & (f["parks"] > 0),
        "urged": region & (f["urges"] > 0),
        "self_disposed": region & (f["self_disposed"] > 0),
        "repeated": region & (f["repeat"] > 0),
    }
    dept = (f["dispatched_in"] > 0) & (f["department"] != "")
    disposed = dept & (f["feedbacks"] > 0)
    by_department = {
        "dispatched": dept,
        "to_dispose": dept & ~parked_now,
        "disposed": disposed,
        "disposed_on_time": disposed & ~late,
        "closed": dept & closed,
        "reworked": disposed & (f["reworks"] > 0),
        "overdue": dept & late,
        "extended": dept & (f["extensions"] > 0),
        "parked": dept & (f["parks"] > 0),
        "urged": dept & (f["urges"] > 0),
    }
    return by_region, by_department


def _post_masks(f: CaseFacts) -> dict[ObjectType, tuple[str, dict[str, NDArray[np.bool_]]]]:
    """Per-case counts that belong to a post: (which fact names the person, masks)."""
    reports = (f["reported_in"] > 0) & np.isin(f["source"], PATROL_SOURCES)
    filed_cases = (f["filed_in"] > 0) & (f["filer"] != "")
    first = (f["dispatched_in"] > 0) & (f["first_dispatcher"] != "")
    return {
        ObjectType.SUPERVISOR: ("reporter", {"reports": reports, "valid_reports": reports & (f["filed"] > 0)}),
        ObjectType.SHIFT_LEADER: (
            "filer",
            {"filed_cases": filed_cases, "accurate_filings": filed_cases & (f["returns_to_acceptor"] == 0)},
        ),
        ObjectType.DISPATCHER: (
            "first_dispatcher",
            {"first_dispatches": first, "accurate_dispatches": first & (f["returns"] == 0)},
        ),
    }


# Log-row counts per post: count name → (role, actions, on time only)
_EVENT_COUNTS: dict[ObjectType, dict[str, tuple[str, tuple[str, ...], bool]]] = {
    ObjectType.SUPERVISOR: {
        "verify_tasks": ("supervisor", ("verify", "refute"), False),
        "verify_on_time": ("supervisor", ("verify", "refute"), True),
        "check_tasks": ("supervisor", ("check_pass", "check_fail"), False),
        "check_on_time": ("supervisor", ("check_pass", "check_fail"), True),
    },
    ObjectType.ACCEPTOR: {
        "accepted": ("acceptor", ("accept", "send_verify"), False),
        "verify_sends": ("acceptor", ("send_verify",), False),
        "verify_sends_on_time": ("acceptor", ("send_verify",), True),
        "check_sends": ("acceptor", ("send_check",), False),
        "check_sends_on_time": ("acceptor", ("send_check",), True),
    },
    ObjectType.SHIFT_LEADER: {
        "filings": ("shift_leader", ("file",), False),
        "filings_on_time": ("shift_leader", ("file",), True),
        "closings": ("shift_leader", ("close",), False),
        "closings_on_time": ("shift_leader", ("close",), True),
    },
    ObjectType.DISPATCHER: {
        "dispatches": ("dispatcher", ("dispatch",), False),
        "dispatches_on_time": ("dispatcher", ("dispatch",), True),
    },
}


def _factorize(keys: NDArray[Any]) -> tuple[list[str], NDArray[np.intp]]:
    """Sorted distinct keys and each key's index among them (np.unique is slow on Python strings)."""
    if len(keys) == 0:
        return [], np.zeros(0, dtype=np.intp)
    codes, inverse = np.unique(keys.astype(str), return_inverse=True)  # fixed-width text sorts in C
    return [str(c) for c in codes], inverse.ravel()


def _group(keys: NDArray[Any], masks: dict[str, NDArray[np.bool_]]) -> dict[str, dict[str, int]]:
    """Per key, the number of cases in each mask (one bincount per mask)."""
    relevant = np.zeros(len(keys), dtype=bool)
    for m in masks.values():
        relevant |= m
    relevant &= keys != ""
    codes, inverse = _factorize(keys[relevant])
    out: dict[str, dict[str, int]] = {str(c): {} for c in codes}
    for name, mask in masks.items():
        counts = np.bincount(inverse, weights=mask[relevant], minlength=len(codes)).astype(np.int64)
        for code, n in zip(codes, counts, strict=True):
            out[str(code)][name] = int(n)
    return out


def _excuse(
    counts: dict[str, dict[str, int]],
    kind: ObjectType,
    exclusions: Iterable[Exclusion],
    membership: dict[str, set[str]],
) -> dict[tuple[str, str], tuple[int, int]]:
    """Indicator (numerator, denominator) adjustments for excused cases: each leaves that indicator."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for object_type, code, code_indicator, case_no in exclusions:
        if object_type != kind.value or code not in counts:
            continue
        ind = indicator(kind, code_indicator)
        num = int(case_no in membership.get(f"{code}|{ind.numerator}", set()))
        den = int(ind.denominator is not None and case_no in membership.get(f"{code}|{ind.denominator}", set()))
        a, b = out.get((code, ind.code), (0, 0))
        out[(code, ind.code)] = (a + num, b + den)
    return out


def _score(
    kind: ObjectType,
    counts: dict[str, dict[str, int]],
    scheme: Scheme,
    names: dict[str, str],
    areas: dict[str, float],
    excused: dict[tuple[str, str], tuple[int, int]],
) -> list[ObjectResult]:
    spec = scheme.for_object(kind)
    rows = []
    for code in sorted(counts):
        n = counts[code]
        values: dict[str, float | None] = {}
        scores: dict[str, float | None] = {}
        for ind in INDICATORS[kind]:
            less_num, less_den = excused.get((code, ind.code), (0, 0))
            numerator = n.get(ind.numerator, 0) - less_num
            if ind.kind is IndicatorKind.RATE:
                value = rate(numerator, n.get(ind.denominator or "", 0) - less_den)
                score = rate_score(value, ind.higher_is_better)
            elif ind.kind is IndicatorKind.BAND:
                value = float(numerator)
                score = band_score(value, spec.bands.get(ind.code, ()))
            else:
                km2 = areas.get(code)
                value = per_unit(numerator, km2 / 1e6 if km2 else None)
                score = band_score(value, spec.bands[ind.code]) if ind.code in spec.bands else None
            values[ind.code] = round_half_up(value, 4)
            scores[ind.code] = round_half_up(score, 2)
        has_rates = any(values[i.code] is not None for i in INDICATORS[kind] if i.kind is IndicatorKind.RATE)
        # An object with no rate to judge (nothing due in the period) is not graded on volume alone.
        terms = [(spec.weights.get(k, 0.0), s) for k, s in scores.items()]
        total = round_half_up(composite(terms), 2) if has_rates else None
        rows.append(
            ObjectResult(code, names.get(code, code), None, total, grade(total, scheme.grades), n, values, scores)
        )
    ranks = rank([r.composite for r in rows])
    ranked = [ObjectResult(r.code, r.name, k, r.composite, r.grade, r.counts, r.values, r.scores)
              for r, k in zip(rows, ranks, strict=True)]  # fmt: skip
    return sorted(ranked, key=lambda r: (r.rank is None, r.rank or 0, r.code))


def _membership(keys: NDArray[Any], masks: dict[str, NDArray[np.bool_]], case_nos: NDArray[Any],
                wanted: set[str]) -> dict[str, set[str]]:  # fmt: skip
    """For the (few) cases named by exclusions: "code|count" → case numbers, to adjust counts."""
    if not wanted:
        return {}
    hit = np.isin(case_nos, list(wanted))
    out: dict[str, set[str]] = {}
    for name, mask in masks.items():
        for i in np.flatnonzero(hit & mask):
            out.setdefault(f"{keys[i]}|{name}", set()).add(str(case_nos[i]))
    return out


def _region_areas(grid_areas: dict[str, float]) -> dict[ObjectType, dict[str, float]]:
    out: dict[ObjectType, dict[str, float]] = {t: {} for t in REGION_TYPES}
    for code, area in grid_areas.items():
        out[ObjectType.GRID][code] = area
        for kind, digits in ((ObjectType.COMMUNITY, 12), (ObjectType.STREET, 9), (ObjectType.DISTRICT, 6)):
            bucket = out[kind]
            bucket[code[:digits]] = bucket.get(code[:digits], 0.0) + area
    return out


def _objects(
    inputs: Inputs,
    scheme: Scheme,
    names: dict[str, str],
    grid_areas: dict[str, float],
    exclusions: list[Exclusion],
) -> dict[str, list[ObjectResult]]:
    f = inputs.facts
    by_region, by_department = case_masks(f)
    wanted = {e[3] for e in exclusions}
    areas = _region_areas(grid_areas)
    out: dict[str, list[ObjectResult]] = {}
    for kind in REGION_TYPES:
        keys = f[REGION_KEY[kind]]
        counts = _group(keys, by_region)
        member = _membership(keys, by_region, f["case_no"], wanted)
        out[kind.value] = _score(kind, counts, scheme, names, areas[kind], _excuse(counts, kind, exclusions, member))
    dept_counts = _group(f["department"], by_department)
    for department, _case_no in inputs.returns:
        if department:
            bucket = dept_counts.setdefault(department, {k: 0 for k in by_department})
            bucket["returned"] = bucket.get("returned", 0) + 1
    for bucket in dept_counts.values():
        bucket.setdefault("returned", 0)
    member = _membership(f["department"], by_department, f["case_no"], wanted)
    excused = _excuse(dept_counts, ObjectType.DEPARTMENT, exclusions, member)
    out[ObjectType.DEPARTMENT.value] = _score(ObjectType.DEPARTMENT, dept_counts, scheme, names, {}, excused)
    for kind, counts in _post_counts(inputs).items():
        out[kind.value] = _score(kind, counts, scheme, names, {}, {})
    return out


def _post_counts(inputs: Inputs) -> dict[ObjectType, dict[str, dict[str, int]]]:
    f = inputs.facts
    out: dict[ObjectType, dict[str, dict[str, int]]] = {kind: {} for kind in POST_TYPES}
    names_of = {kind: [*_EVENT_COUNTS[kind]] for kind in POST_TYPES}
    for kind, (who, masks) in _post_masks(f).items():
        names_of[kind] += list(masks)
        for person, counts in _group(f[who], masks).items():
            out[kind].setdefault(person, {}).update(counts)
    for actor, action, _state, on_time, n in inputs.events:
        for kind, spec in _EVENT_COUNTS.items():
            for name, (_role, actions, on_time_only) in spec.items():
                if action in actions and (not on_time_only or on_time is True) and actor not in NOT_STAFF:
                    bucket = out[kind].setdefault(actor, {})
                    bucket[name] = bucket.get(name, 0) + n
    for supervisor, _case_no in inputs.missed:
        bucket = out[ObjectType.SUPERVISOR].setdefault(supervisor, {})
        bucket["missed"] = bucket.get("missed", 0) + 1
    names_of[ObjectType.SUPERVISOR] += ["missed", "found"]
    for bucket in out[ObjectType.SUPERVISOR].values():
        bucket["found"] = bucket.get("valid_reports", 0) + bucket.get("missed", 0)
    for kind, people in out.items():
        for machine in NOT_STAFF:
            people.pop(machine, None)
        for bucket in people.values():
            for name in names_of[kind]:
                bucket.setdefault(name, 0)
    return out


def _hotspots(f: CaseFacts) -> list[Hotspot]:
    """反复发生: cells of about 100 m where one class of problem was filed twice or more in the period
    (or a report was linked to a recently closed case there), most cases first."""
    mask = f["filed_in"] > 0
    if not mask.any():
        return []
    classes = f["class_code"][mask]
    _, class_ids = _factorize(classes)
    x = np.floor(f["lon"][mask] / HOTSPOT_DEGREES).astype(np.int64)
    y = np.floor(f["lat"][mask] / HOTSPOT_DEGREES).astype(np.int64)
    # one integer per (cell, class): degrees × 1000 stay below 2**20, classes below 2**20
    keys = ((x + 2**20) << 42) | ((y + 2**20) << 21) | class_ids.astype(np.int64)
    unique_keys, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    unique = np.stack([(unique_keys >> 42) - 2**20, ((unique_keys >> 21) & (2**21 - 1)) - 2**20], 1)
    linked = np.bincount(inverse, weights=f["repeat"][mask], minlength=len(unique))
    case_nos = f["case_no"][mask]
    spots = []
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(unique_keys)))
    for i in np.flatnonzero((counts >= 2) | (linked > 0)):
        members = order[starts[i] : starts[i] + counts[i]]
        spots.append(
            Hotspot(
                round(float(unique[i][0] + 0.5) * HOTSPOT_DEGREES, 4),
                round(float(unique[i][1] + 0.5) * HOTSPOT_DEGREES, 4),
                int(counts[i]),
                str(classes[members[0]]),
                sorted(str(n) for n in case_nos[members]),
            )
        )
    return sorted(spots, key=lambda s: (-s.cases, s.lon, s.lat, s.class_code))[:100]


def compute(
    uow: UnitOfWork,
    period: Period,
    scheme: Scheme,
    exclusions: list[Exclusion] | None = None,
    trend_periods: int = 0,
    progress: Progress = no_progress,
) -> EvaluationResult:
    """Evaluate every object of every type for one period (inside an open unit of work)."""
    total = 2 + trend_periods
    progress(f"读取 {period.key} 案件记录", 0, total)
    inputs = read_inputs(uow, period)
    names = uow.evaluation.names()
    grid_areas = uow.evaluation.grid_areas()
    progress(f"计算 {period.key} 指标", 1, total)
    excl = sorted(exclusions or [])
    objects = _objects(inputs, scheme, names, grid_areas, excl)
    trend: dict[str, dict[str, list[float | None]]] = {}
    keys: list[str] = []
    earlier = period
    history: list[dict[str, list[ObjectResult]]] = []
    schemes = load_schemes(uow)
    for i in range(trend_periods):
        earlier = earlier.previous()
        progress(f"计算 {earlier.key} 趋势", 2 + i, total)
        try:
            then = scheme_in_force(schemes, earlier)
        except InvalidInputError:
            break
        keys.insert(0, earlier.key)
        history.insert(0, _objects(read_inputs(uow, earlier), then, names, grid_areas, []))
    if history:
        for kind in (ObjectType.DISTRICT, ObjectType.STREET, ObjectType.DEPARTMENT):
            now_rows = objects[kind.value]
            past = [{r.code: r.composite for r in h[kind.value]} for h in history]
            trend[kind.value] = {r.code: [p.get(r.code) for p in past] + [r.composite] for r in now_rows}
    progress(f"{period.key} 评价完成", total, total)
    return EvaluationResult(
        period=period.key,
        first_day=period.first.isoformat(),
        last_day=period.last.isoformat(),
        scheme_version=scheme.version,
        cases=int(np.count_nonzero(inputs.facts["filed_in"] > 0)),
        objects=objects,
        hotspots=_hotspots(inputs.facts),
        trend=trend,
        trend_periods=[*keys, period.key] if keys else [],
        excused=[list(e) for e in excl],
    )


# ----- use cases -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evaluate:
    period: str
    trend_periods: int = 5
    live: bool = False
    """Compute from the log even when the period is frozen."""


def evaluate(cmd: Evaluate, uow: UnitOfWork, progress: Progress = no_progress) -> EvaluationResult:
    """The period's evaluation: its frozen result when frozen (latest revision), else computed now."""
    period = Period.parse(cmd.period)
    with uow:
        frozen = None if cmd.live else uow.evaluation.latest_result(period.key)
        if frozen is not None:
            progress(f"{period.key} 已冻结", 1, 1)
            return EvaluationResult.from_dict(json.loads(frozen[1]))
        scheme = scheme_in_force(load_schemes(uow), period)
        return compute(uow, period, scheme, trend_periods=cmd.trend_periods, progress=progress)


@dataclass(frozen=True, slots=True)
class Drill:
    period: str
    object_type: str
    object_code: str
    indicator: str


@dataclass(frozen=True, slots=True)
class Drilled:
    """The cases behind one indicator value of one object: its numerator's and denominator's cases."""

    indicator: str
    name: str
    numerator: str
    denominator: str | None
    numerator_cases: list[str]
    denominator_cases: list[str]


def drill(cmd: Drill, uow: UnitOfWork) -> Drilled:
    """Case numbers behind an indicator of one object in a period (as of the period's end)."""
    period = Period.parse(cmd.period)
    kind = ObjectType.parse(cmd.object_type)
    ind = indicator(kind, cmd.indicator)
    start, end = period.bounds(TZ)
    with uow:
        inputs = read_inputs(uow, period)
        found = {name: _cases_for(uow, inputs, kind, cmd.object_code, name, start, end)
                 for name in filter(None, (ind.numerator, ind.denominator))}  # fmt: skip
    return Drilled(ind.code, ind.name, ind.numerator, ind.denominator, found[ind.numerator],
                   found[ind.denominator] if ind.denominator else [])  # fmt: skip


def _cases_for(
    uow: UnitOfWork, inputs: Inputs, kind: ObjectType, code: str, name: str, start: datetime, end: datetime
) -> list[str]:
    f = inputs.facts
    if kind in REGION_TYPES or kind is ObjectType.DEPARTMENT:
        by_region, by_department = case_masks(f)
        if kind is ObjectType.DEPARTMENT and name == "returned":
            return sorted(n for d, n in inputs.returns if d == code)
        masks, keys = (by_region, f[REGION_KEY[kind]]) if kind in REGION_TYPES else (by_department, f["department"])
        return sorted(str(n) for n in f["case_no"][(keys == code) & masks[name]])
    if kind is ObjectType.SUPERVISOR and name == "missed":
        return sorted(n for s, n in inputs.missed if s == code)
    if kind is ObjectType.SUPERVISOR and name == "found":
        valid = _cases_for(uow, inputs, kind, code, "valid_reports", start, end)
        return sorted([*valid, *(n for s, n in inputs.missed if s == code)])
    post = _post_masks(f).get(kind)
    if post and name in post[1]:
        who, masks = post
        return sorted(str(n) for n in f["case_no"][(f[who] == code) & masks[name]])
    _role, actions, on_time_only = _EVENT_COUNTS[kind][name]
    return uow.evaluation.event_cases(start, end, code, actions, True if on_time_only else None)


def count_label(name: str) -> str:
    return COUNT_LABELS.get(name, name)


# ----- freezing and appeals ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FreezePeriod:
    period: str
    actor: str


def freeze_period(cmd: FreezePeriod, uow: UnitOfWork, clock: Clock, progress: Progress = no_progress) -> str:
    """Compute and store the period's result as revision 1; later changes only through appeals."""
    period = Period.parse(cmd.period)
    now = clock.now()
    if now < period.bounds(TZ)[1]:
        raise ConflictError("evaluation.period_open", f"{period.key} 尚未结束，不能冻结", period=period.key)
    with uow:
        if uow.evaluation.latest_result(period.key) is not None:
            raise ConflictError("evaluation.already_frozen", f"{period.key} 已冻结", period=period.key)
        scheme = scheme_in_force(load_schemes(uow), period)
        result = compute(uow, period, scheme, trend_periods=0, progress=progress)
        result = _with_revision(result, 1)
        body = canonical_json(result)
        sha = _sha(body)
        uow.evaluation.add_result(period.key, 1, scheme.version, body, sha, now, cmd.actor)
        uow.evaluation.add_audit(
            {"at": now, "actor": cmd.actor, "action": "freeze", "period_key": period.key, "after_sha256": sha,
             "detail": json.dumps({"scheme": scheme.version, "cases": result.cases}, ensure_ascii=False)}
        )  # fmt: skip
        uow.commit()
    return sha


def _with_revision(result: EvaluationResult, revision: int) -> EvaluationResult:
    return EvaluationResult.from_dict({**result.to_dict(), "revision": revision})


@dataclass(frozen=True, slots=True)
class FileAppeal:
    period: str
    object_type: str
    object_code: str
    indicator: str
    case_no: str
    reason: str
    actor: str


def file_appeal(cmd: FileAppeal, uow: UnitOfWork, clock: Clock) -> int:
    """申诉: a department asks that one case's deduction on one indicator be excused; returns the appeal id."""
    period = Period.parse(cmd.period)
    kind = ObjectType.parse(cmd.object_type)
    ind = indicator(kind, cmd.indicator)
    if not cmd.reason.strip():
        raise InvalidInputError("evaluation.reason_required", "申诉须填写理由")
    if ind.kind is not IndicatorKind.RATE or not (kind is ObjectType.DEPARTMENT or kind in REGION_TYPES):
        raise InvalidInputError(
            "evaluation.not_appealable", f"只能对部门或区域的比率指标申诉，“{ind.name}”不可申诉", indicator=ind.code
        )
    drilled = drill(Drill(cmd.period, kind.value, cmd.object_code, ind.code), uow)
    in_num, in_den = cmd.case_no in drilled.numerator_cases, cmd.case_no in drilled.denominator_cases
    deducted = in_num if not ind.higher_is_better else (in_den and not in_num)
    if not deducted:
        raise InvalidInputError(
            "evaluation.not_a_deduction",
            f"案件 {cmd.case_no} 未使 {cmd.object_code} 的“{ind.name}”扣分，无需申诉",
            case_no=cmd.case_no,
        )
    now = clock.now()
    with uow:
        if uow.evaluation.latest_result(period.key) is None:
            raise ConflictError("evaluation.not_frozen", f"{period.key} 尚未冻结，冻结后才能申诉", period=period.key)
        for other in uow.evaluation.appeals(period.key):
            same = (other["object_type"], other["object_code"], other["indicator"], other["case_no"])
            if same == (kind.value, cmd.object_code, ind.code, cmd.case_no) and other["status"] != "rejected":
                raise ConflictError("evaluation.appeal_exists", f"该扣分已有申诉（编号 {other['id']}）")
        appeal_id = uow.evaluation.add_appeal(
            {"period_key": period.key, "object_type": kind.value, "object_code": cmd.object_code,
             "indicator": ind.code, "case_no": cmd.case_no, "reason": cmd.reason.strip(), "filed_by": cmd.actor,
             "filed_at": now, "status": "pending"}
        )  # fmt: skip
        uow.evaluation.add_audit(
            {"at": now, "actor": cmd.actor, "action": "appeal", "period_key": period.key, "appeal_id": appeal_id,
             "detail": json.dumps({"case_no": cmd.case_no, "indicator": ind.code, "object": cmd.object_code},
                                  ensure_ascii=False)}
        )  # fmt: skip
        uow.commit()
    return appeal_id


@dataclass(frozen=True, slots=True)
class DecideAppeal:
    appeal_id: int
    approve: bool
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class AppealDecided:
    appeal_id: int
    status: str
    revision: int
    before: float | None
    after: float | None


def decide_appeal(cmd: DecideAppeal, uow: UnitOfWork, clock: Clock) -> AppealDecided:
    """Approve (a new revision of the frozen result, excusing the case) or reject; audited either way."""
    if not cmd.reason.strip():
        raise InvalidInputError("evaluation.reason_required", "审批申诉须填写意见")
    now = clock.now()
    with uow:
        appeal = uow.evaluation.appeal(cmd.appeal_id)
        if appeal is None:
            raise NotFoundError("evaluation.appeal_not_found", f"申诉 {cmd.appeal_id} 不存在")
        if appeal["status"] != "pending":
            raise ConflictError("evaluation.appeal_decided", f"申诉 {cmd.appeal_id} 已审批（{appeal['status']}）")
        key = appeal["period_key"]
        latest = uow.evaluation.latest_result(key)
        assert latest is not None  # appeals are filed only against frozen periods
        revision, body, before_sha = latest
        old = EvaluationResult.from_dict(json.loads(body))
        target = (appeal["object_type"], appeal["object_code"], appeal["indicator"])
        before = _value(old, *target)
        status = "approved" if cmd.approve else "rejected"
        after_sha, after = before_sha, before
        if cmd.approve:
            excl = [tuple(e) for e in old.excused] + [(*target, appeal["case_no"])]
            period = Period.parse(key)
            scheme = next(s for s in load_schemes(uow) if s.version == old.scheme_version)
            new = compute(uow, period, scheme, exclusions=[(a, b, c, d) for a, b, c, d in excl])
            revision += 1
            new = _with_revision(new, revision)
            text = canonical_json(new)
            after_sha, after = _sha(text), _value(new, *target)
            uow.evaluation.add_result(key, revision, scheme.version, text, after_sha, now, cmd.actor)
        uow.evaluation.decide_appeal(cmd.appeal_id, status, cmd.actor, now, cmd.reason.strip())
        uow.evaluation.add_audit(
            {"at": now, "actor": cmd.actor, "action": "approve" if cmd.approve else "reject", "period_key": key,
             "appeal_id": cmd.appeal_id, "before_sha256": before_sha, "after_sha256": after_sha,
             "detail": json.dumps({"object": appeal["object_code"], "indicator": appeal["indicator"],
                                   "case_no": appeal["case_no"], "before": before, "after": after,
                                   "revision": revision}, ensure_ascii=False)}
        )  # fmt: skip
        uow.commit()
    return AppealDecided(cmd.appeal_id, status, revision, before, after)


def _value(result: EvaluationResult, object_type: str, code: str, ind: str) -> float | None:
    for row in result.objects.get(object_type, []):
        if row.code == code:
            return row.values.get(ind)
    return None


def audit_trail(period: str, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every freeze, appeal and decision of a period, oldest first."""
    with uow:
        return uow.evaluation.audit(Period.parse(period).key)
