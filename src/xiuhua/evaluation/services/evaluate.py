"""Evaluation runs: indicators and composite indices per object for a period, drill-down, freezing, appeals.

Everything is computed from the case log as of the period's end (rows with ``at`` before it), in a few
set-based queries whose per-case results are grouped with numpy, so re-running gives the same numbers.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xiuhua.evaluation.domain.facts import CaseFacts
from xiuhua.evaluation.domain.model import (
    COUNT_LABELS,
    INDICATORS,
    POST_TYPES,
    REGION_TYPES,
    IndicatorKind,
    ObjectType,
    Period,
    PeriodKind,
    Scheme,
    indicator,
    scheme_in_force,
)
from xiuhua.evaluation.domain.scoring import (
    band_score,
    composite,
    grade,
    per_unit,
    rank,
    rate,
    rate_score,
    round_half_up,
)
from xiuhua.evaluation.domain.tallies import (
    DEPARTMENT_COUNTS,
    EVENT_COUNTS,
    EVENTS_OF,
    HOTSPOT,
    HOTSPOT_DEGREES,
    MISSED,
    NOT_STAFF,
    PATROL_SOURCES,
    PLACE,
    POST_COUNTS,
    PUBLIC_SOURCES,
    REGION_COUNTS,
    TZ,
    hotspot_key,
)
from xiuhua.evaluation.ports import EvaluationStore as EvaluationReads
from xiuhua.evaluation.ports import EvaluationUnitOfWork
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock, Progress, no_progress

DEFAULT_SCHEME = "scheme_default.json"
REGION_KEY = {
    ObjectType.DISTRICT: "district_code",
    ObjectType.STREET: "street_code",
    ObjectType.COMMUNITY: "community_code",
    ObjectType.GRID: "grid_code",
}
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
    """A ~100 m cell where one class of problem recurred; ``key`` names it for drill-down."""

    lon: float
    lat: float
    cases: int
    linked: int
    class_code: str
    key: str


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


def load_schemes(uow: EvaluationUnitOfWork) -> list[Scheme]:
    """The stored schemes; the packaged default when none is stored."""
    bodies = uow.evaluation.schemes() or [default_scheme_body()]
    return [Scheme.from_dict(b) for b in bodies]


@dataclass(frozen=True, slots=True)
class AddScheme:
    body: dict[str, Any]
    actor: str


def add_scheme(cmd: AddScheme, uow: EvaluationUnitOfWork, clock: Clock) -> Scheme:
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
Counts = dict[str, dict[str, dict[str, int]]]
"""Tally object type → code → count name → n: one period's counts, from the tallies or from the log."""


@dataclass
class Inputs:
    facts: CaseFacts
    events: list[tuple[str, str, str | None, bool | None, int]]
    returns: list[tuple[str, str]]
    late: list[tuple[str, str]]
    """(department, case number) of disposal steps ended after a deadline that fell in the period."""


def read_inputs(ev: EvaluationReads, period: Period) -> Inputs:
    start, end = period.bounds(TZ)
    return Inputs(ev.case_facts(start, end), ev.post_events(start, end), ev.returns_by_department(start, end),
                  ev.late_disposals(start, end))  # fmt: skip


def overdue_cases(ev: EvaluationReads, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """超期: (department, case number) of every disposal step whose deadline fell in [start, end) and passed
    undisposed: those disposed late since, and those still open and flagged overdue by the sweep."""
    return sorted([*ev.late_disposals(start, end), *ev.overdue_open(start, end)])


def case_masks(f: CaseFacts) -> tuple[dict[str, NDArray[np.bool_]], dict[str, NDArray[np.bool_]]]:
    """Boolean masks over the facts' cases: the region counts, and the department counts."""
    parked_now = f["parks"] > f["resumes"]  # parked at the period's end: not yet due (挂账)
    late = f["late_feedbacks"] > 0
    unknown = (f["untimed_feedbacks"] > 0) & ~late  # disposed against no deadline: timeliness unknown
    closed = f["closed"] > 0
    region = f["filed_in"] > 0
    public = np.isin(f["source"], PUBLIC_SOURCES)
    due_to_close = region & (closed | ~parked_now)
    by_region = {
        "filed": region,
        "public_verified": region & public & (f["verified"] > 0),
        "due_to_close": due_to_close,
        "timed_due_to_close": due_to_close & ~unknown,
        "closed": region & closed,
        "closed_on_time": region & closed & ~late & ~unknown,
        "overdue_closed": region & closed & late,
        "timing_unknown": region & unknown,
        "reworked": region & (f["reworks"] > 0),
        "returned": region & (f["returns"] > 0),
        "extended": region & (f["extensions"] > 0),
        "parked": region & (f["parks"] > 0),
        "urged": region & (f["urges"] > 0),
        "special_urged": region & (f["special_urges"] > 0),
        "self_disposed": region & (f["self_disposed"] > 0),
        "repeated": region & (f["repeat"] > 0),
    }
    dept = (f["dispatched_in"] > 0) & (f["department"] != "")
    disposed = dept & (f["feedbacks"] > 0)
    to_dispose = dept & (disposed | closed | ~parked_now)
    by_department = {
        "dispatched": dept,
        "to_dispose": to_dispose,
        "timed_to_dispose": to_dispose & ~unknown,
        "disposed": disposed,
        "disposed_on_time": disposed & ~late & ~unknown,
        "timing_unknown": dept & unknown,
        "closed": dept & closed,
        "reworked": disposed & (f["reworks"] > 0),
        "extended": dept & (f["extensions"] > 0),
        "parked": dept & (f["parks"] > 0),
        "urged": dept & (f["urges"] > 0),
        "special_urged": dept & (f["special_urges"] > 0),
    }
    return by_region, by_department


def post_masks(f: CaseFacts) -> dict[ObjectType, tuple[str, dict[str, NDArray[np.bool_]]]]:
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


def missed_mask(f: CaseFacts) -> NDArray[np.bool_]:
    """Public reports of the period verified true by its end, in a unit grid: 漏报 of the grid's supervisor."""
    public = np.isin(f["source"], PUBLIC_SOURCES)
    mask: NDArray[np.bool_] = (f["reported_in"] > 0) & public & (f["verified"] > 0) & (f["grid_code"] != "")
    return mask


def _place_keys(f: CaseFacts) -> NDArray[Any]:
    keys: NDArray[Any] = f["district_code"] + "|" + f["street_code"] + "|" + f["community_code"] + "|" + f["grid_code"]
    return keys


def _hotspot_keys(f: CaseFacts) -> NDArray[Any]:
    return np.array([hotspot_key(x, y, c) for x, y, c in zip(f["lon"], f["lat"], f["class_code"], strict=True)],
                    dtype=object)  # fmt: skip


def _factorize(keys: NDArray[Any]) -> tuple[list[str], NDArray[np.intp]]:
    """Sorted distinct keys and each key's index among them (np.unique is slow on Python strings)."""
    if len(keys) == 0:
        return [], np.zeros(0, dtype=np.intp)
    codes, inverse = np.unique(keys.astype(str), return_inverse=True)  # fixed-width text sorts in C
    return [str(c) for c in codes], inverse.ravel()


def _group(keys: NDArray[Any], masks: dict[str, NDArray[np.bool_]]) -> dict[str, dict[str, int]]:
    """Per key, the number of cases in each mask (one bincount per mask); zero counts left out."""
    relevant = np.zeros(len(keys), dtype=bool)
    for m in masks.values():
        relevant |= m
    relevant &= keys != ""
    codes, inverse = _factorize(keys[relevant])
    out: dict[str, dict[str, int]] = {c: {} for c in codes}
    for name, mask in masks.items():
        counts = np.bincount(inverse, weights=mask[relevant], minlength=len(codes)).astype(np.int64)
        for i in np.flatnonzero(counts):
            out[codes[i]][name] = int(counts[i])
    return out


def counts_from_log(inputs: Inputs) -> Counts:
    """The period's counts from the case log (any period): the reference the monthly tallies must equal."""
    f = inputs.facts
    by_region, by_department = case_masks(f)
    filed = f["filed_in"] > 0
    out: Counts = {
        PLACE: _group(_place_keys(f), by_region),
        "department": _group(f["department"], by_department),
        HOTSPOT: _group(_hotspot_keys(f), {"filed": filed, "repeated": filed & (f["repeat"] > 0)}),
        MISSED: _group(f["grid_code"], {"missed": missed_mask(f)}),
    }
    for name, pairs in (("returned", inputs.returns), ("overdue", inputs.late)):
        for department, _case_no in pairs:
            if department:
                bucket = out["department"].setdefault(department, {})
                bucket[name] = bucket.get(name, 0) + 1
    for post in POST_TYPES:
        out[post.value] = {}
    for post, (who, masks) in post_masks(f).items():
        for person, counts in _group(f[who], masks).items():
            out[post.value].setdefault(person, {}).update(counts)
    for actor, action, _state, on_time, n in inputs.events:
        if actor in NOT_STAFF:
            continue
        for kind, name, on_time_only in EVENTS_OF.get(action, ()):
            if not on_time_only or on_time is True:
                bucket = out[kind].setdefault(actor, {})
                bucket[name] = bucket.get(name, 0) + n
    return out


def counts_from_tallies(rows: Iterable[tuple[str, str, str, int]]) -> Counts:
    """A month's counts from its tallies."""
    out: Counts = {}
    for kind, code, name, n in rows:
        out.setdefault(kind, {}).setdefault(code, {})[name] = n
    return out


def tally_rows(counts: Counts) -> list[tuple[str, str, str, int]]:
    """Counts as sorted (object type, code, count, n) tally rows, zeros left out."""
    return sorted((k, c, name, n) for k, codes in counts.items() for c, ns in codes.items()
                  for name, n in ns.items() if n)  # fmt: skip


def _rollup(places: dict[str, dict[str, int]]) -> dict[ObjectType, dict[str, dict[str, int]]]:
    """Place counts (district|street|community|grid) summed into each region level."""
    out: dict[ObjectType, dict[str, dict[str, int]]] = {t: {} for t in REGION_TYPES}
    levels = (ObjectType.DISTRICT, ObjectType.STREET, ObjectType.COMMUNITY, ObjectType.GRID)
    for key, counts in places.items():
        for level, code in zip(levels, key.split("|"), strict=True):
            if code:
                bucket = out[level].setdefault(code, {})
                for name, n in counts.items():
                    bucket[name] = bucket.get(name, 0) + n
    return out


def _object_counts(counts: Counts, supervisors: dict[str, str]) -> dict[ObjectType, dict[str, dict[str, int]]]:
    """Per evaluated object, every count it has (zeros filled in); objects with nothing counted left out."""
    out = _rollup(counts.get(PLACE, {}))
    out[ObjectType.DEPARTMENT] = counts.get("department", {})
    for kind in POST_TYPES:
        out[kind] = {p: dict(c) for p, c in counts.get(kind.value, {}).items() if p not in NOT_STAFF}
    people = out[ObjectType.SUPERVISOR]
    for grid, missed in counts.get(MISSED, {}).items():
        if (supervisor := supervisors.get(grid)) and supervisor not in NOT_STAFF:
            bucket = people.setdefault(supervisor, {})
            bucket["missed"] = bucket.get("missed", 0) + missed.get("missed", 0)
    for bucket in people.values():
        bucket["found"] = bucket.get("valid_reports", 0) + bucket.get("missed", 0)
    names = {**{k: REGION_COUNTS for k in REGION_TYPES}, ObjectType.DEPARTMENT: DEPARTMENT_COUNTS,
             **{k: POST_COUNTS[k.value] for k in POST_TYPES}}  # fmt: skip
    return {
        kind: {code: {name: c.get(name, 0) for name in names[kind]} for code, c in objects.items() if any(c.values())}
        for kind, objects in out.items()
    }


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


def _excusals(
    inputs: Inputs, objects: dict[ObjectType, dict[str, dict[str, int]]], exclusions: list[Exclusion]
) -> dict[ObjectType, dict[tuple[str, str], tuple[int, int]]]:
    """Per object type, the (numerator, denominator) to take off each excused indicator."""
    if not exclusions:
        return {}
    f = inputs.facts
    by_region, by_department = case_masks(f)
    wanted = {e[3] for e in exclusions}
    out = {}
    for kind in REGION_TYPES:
        member = _membership(f[REGION_KEY[kind]], by_region, f["case_no"], wanted)
        out[kind] = _excuse(objects[kind], kind, exclusions, member)
    member = _membership(f["department"], by_department, f["case_no"], wanted)
    out[ObjectType.DEPARTMENT] = _excuse(objects[ObjectType.DEPARTMENT], ObjectType.DEPARTMENT, exclusions, member)
    return out


def _score(
    kind: ObjectType,
    counts: dict[str, dict[str, int]],
    scheme: Scheme,
    names: dict[str, str],
    sizes: dict[str, dict[str, float]],
    excused: dict[tuple[str, str], tuple[int, int]],
) -> list[ObjectResult]:
    """Score each object; ``sizes`` gives each density's size per object code (km², 10,000s of residents)."""
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
                value = per_unit(numerator, sizes.get(ind.per or "", {}).get(code))
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


def _region_sizes(
    grid_areas: dict[str, float], populations: dict[str, int]
) -> dict[ObjectType, dict[str, dict[str, float]]]:
    """Per region level, the sizes densities divide by: km² of the unit grids, and 10,000s of residents."""
    km2: dict[ObjectType, dict[str, float]] = {t: {} for t in REGION_TYPES}
    for code, area in grid_areas.items():
        km2[ObjectType.GRID][code] = area / 1e6
        for kind, digits in ((ObjectType.COMMUNITY, 12), (ObjectType.STREET, 9), (ObjectType.DISTRICT, 6)):
            bucket = km2[kind]
            bucket[code[:digits]] = bucket.get(code[:digits], 0.0) + area / 1e6
    lengths = {ObjectType.DISTRICT: 6, ObjectType.STREET: 9, ObjectType.COMMUNITY: 12}
    return {
        kind: {"km2": km2[kind],
               "10k_residents": {c: n / 1e4 for c, n in populations.items() if len(c) == lengths.get(kind)}}
        for kind in REGION_TYPES
    }  # fmt: skip


def _hotspots(spots: dict[str, dict[str, int]]) -> list[Hotspot]:
    """反复发生: cells of about 100 m where one class of problem was filed twice or more in the period
    (or a report was linked to a recently closed case there), most cases first (at most 100)."""
    ranked = []
    for key, n in spots.items():
        filed, linked = n.get("filed", 0), n.get("repeated", 0)
        if filed >= 2 or linked > 0:
            x, y, class_code = key.split("|", 2)
            lon, lat = (int(x) + 0.5) * HOTSPOT_DEGREES, (int(y) + 0.5) * HOTSPOT_DEGREES
            ranked.append((-filed, lon, lat, class_code, linked, key))
    return [Hotspot(round(lon, 4), round(lat, 4), -minus, linked, class_code, key)
            for minus, lon, lat, class_code, linked, key in heapq.nsmallest(100, ranked)]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Context:
    """What every period's evaluation looks up: display names, and region sizes for densities."""

    names: dict[str, str]
    sizes: dict[ObjectType, dict[str, dict[str, float]]]

    @classmethod
    def read(cls, uow: EvaluationUnitOfWork) -> Context:
        return cls(uow.evaluation.names(), _region_sizes(uow.evaluation.grid_areas(), uow.regions.populations()))


def period_counts(uow: EvaluationUnitOfWork, period: Period) -> tuple[Counts, Inputs | None]:
    """A period's counts: a month's from its tallies; any other period's from the log (with its inputs). Both
    add the disposal steps still open past a deadline that fell in the period (超期, from the cases)."""
    inputs = None if period.kind is PeriodKind.MONTH else read_inputs(uow.evaluation, period)
    counts = counts_from_tallies(uow.evaluation.tallies(period.key)) if inputs is None else counts_from_log(inputs)
    start, end = period.bounds(TZ)
    for department, _case_no in uow.evaluation.overdue_open(start, end):
        bucket = counts.setdefault("department", {}).setdefault(department, {})
        bucket["overdue"] = bucket.get("overdue", 0) + 1
    return counts, inputs


def _objects(
    uow: EvaluationUnitOfWork,
    period: Period,
    scheme: Scheme,
    context: Context,
    exclusions: list[Exclusion],
) -> tuple[dict[str, list[ObjectResult]], Counts]:
    counts, inputs = period_counts(uow, period)
    supervisors = uow.evaluation.grid_supervisors(sorted(counts.get(MISSED, {})))
    objects = _object_counts(counts, supervisors)
    if exclusions and inputs is None:
        inputs = read_inputs(uow.evaluation, period)
    excused = _excusals(inputs, objects, exclusions) if inputs is not None else {}
    out = {
        kind.value: _score(kind, objects[kind], scheme, context.names, context.sizes.get(kind, {}),
                           excused.get(kind, {}))
        for kind in ObjectType
    }  # fmt: skip
    return out, counts


def compute(
    uow: EvaluationUnitOfWork,
    period: Period,
    scheme: Scheme,
    exclusions: list[Exclusion] | None = None,
    trend_periods: int = 0,
    progress: Progress = no_progress,
) -> EvaluationResult:
    """Evaluate every object of every type for one period (inside an open unit of work)."""
    total = 2 + trend_periods
    progress(f"读取 {period.key} 案件记录", 0, total)
    context = Context.read(uow)
    progress(f"计算 {period.key} 指标", 1, total)
    excl = sorted(exclusions or [])
    objects, counts = _objects(uow, period, scheme, context, excl)
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
        history.insert(0, _objects(uow, earlier, then, context, [])[0])
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
        cases=sum(n.get("filed", 0) for n in counts.get(PLACE, {}).values()),
        objects=objects,
        hotspots=_hotspots(counts.get(HOTSPOT, {})),
        trend=trend,
        trend_periods=[*keys, period.key] if keys else [],
        excused=[list(e) for e in excl],
    )


# ----- tallies -------------------------------------------------------------------------------------
def _months(first: datetime, last: datetime) -> list[Period]:
    a, b = first.astimezone(TZ), last.astimezone(TZ)
    return [Period.month(i // 12, i % 12 + 1) for i in range(a.year * 12 + a.month - 1, b.year * 12 + b.month)]


def rebuild_tallies(uow: EvaluationUnitOfWork, progress: Progress = no_progress, month: str | None = None) -> int:
    """Recompute the tallies of every month (or of one) from the case log, after cases were loaded around
    the use cases; returns the number of months."""
    only = None if month is None else Period.parse(month)
    if only is not None and only.kind is not PeriodKind.MONTH:
        raise InvalidInputError("evaluation.bad_period", f"“{month}”不是一个月份，统计按月重算")
    with uow:
        months = _rebuild(uow.evaluation, progress, only)
        uow.commit()
    return months


def _rebuild(ev: EvaluationReads, progress: Progress, only: Period | None) -> int:
    span = ev.log_span()
    months = [only] if only else _months(*span) if span else []
    for i, month in enumerate(months):
        progress(f"重建 {month.key} 统计", i, len(months))
        ev.replace_tallies(month.key, tally_rows(counts_from_log(read_inputs(ev, month))))
    progress("统计重建完成", len(months), len(months))
    return len(months)


@dataclass(frozen=True, slots=True)
class TallyCheck:
    month: str
    rows: int
    differences: list[str]


def check_tallies(month: str, uow: EvaluationUnitOfWork) -> TallyCheck:
    """Compare a month's tallies with the counts recomputed from the log; lists every difference."""
    period = Period.parse(month)
    if period.kind is not PeriodKind.MONTH:
        raise InvalidInputError("evaluation.bad_period", f"“{month}”不是一个月份，统计按月核对")
    with uow:
        kept = dict(((k, c, n), v) for k, c, n, v in uow.evaluation.tallies(period.key))
        fresh = dict(((k, c, n), v) for k, c, n, v in tally_rows(counts_from_log(read_inputs(uow.evaluation, period))))
    differences = [f"{'/'.join(key)}: 统计 {kept.get(key, 0)}，日志 {fresh.get(key, 0)}"
                   for key in sorted(kept.keys() | fresh.keys()) if kept.get(key, 0) != fresh.get(key, 0)]  # fmt: skip
    return TallyCheck(period.key, len(fresh), differences)


# ----- use cases -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evaluate:
    period: str
    trend_periods: int = 5
    live: bool = False
    """Compute from the log even when the period is frozen."""


def evaluate(cmd: Evaluate, uow: EvaluationUnitOfWork, progress: Progress = no_progress) -> EvaluationResult:
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
    deducted_cases: list[str]
    """Cases that lower a rate: outside the numerator of a rate where higher is better, in it where lower is."""


def drill(cmd: Drill, uow: EvaluationUnitOfWork) -> Drilled:
    """Case numbers behind an indicator of one object in a period (as of the period's end)."""
    period = Period.parse(cmd.period)
    kind = ObjectType.parse(cmd.object_type)
    ind = indicator(kind, cmd.indicator)
    start, end = period.bounds(TZ)
    with uow:
        inputs = read_inputs(uow.evaluation, period)
        found = {name: _cases_for(uow, inputs, kind, cmd.object_code, name, start, end)
                 for name in filter(None, (ind.numerator, ind.denominator))}  # fmt: skip
    numerator, denominator = found[ind.numerator], found[ind.denominator] if ind.denominator else []
    deducted: list[str] = []
    if ind.kind is IndicatorKind.RATE:
        deducted = sorted(set(denominator) - set(numerator)) if ind.higher_is_better else numerator
    return Drilled(ind.code, ind.name, ind.numerator, ind.denominator, numerator, denominator, deducted)


def _cases_for(
    uow: EvaluationUnitOfWork, inputs: Inputs, kind: ObjectType, code: str, name: str, start: datetime, end: datetime
) -> list[str]:
    f = inputs.facts
    if kind in REGION_TYPES or kind is ObjectType.DEPARTMENT:
        by_region, by_department = case_masks(f)
        if kind is ObjectType.DEPARTMENT and name == "returned":
            return sorted(n for d, n in inputs.returns if d == code)
        if kind is ObjectType.DEPARTMENT and name == "overdue":
            return sorted(n for d, n in overdue_cases(uow.evaluation, start, end) if d == code)
        masks, keys = (by_region, f[REGION_KEY[kind]]) if kind in REGION_TYPES else (by_department, f["department"])
        return sorted(str(n) for n in f["case_no"][(keys == code) & masks[name]])
    if kind is ObjectType.SUPERVISOR and name == "missed":
        return _missed_cases(uow, f, code)
    if kind is ObjectType.SUPERVISOR and name == "found":
        valid = _cases_for(uow, inputs, kind, code, "valid_reports", start, end)
        return sorted([*valid, *_missed_cases(uow, f, code)])
    post = post_masks(f).get(kind)
    if post and name in post[1]:
        who, masks = post
        return sorted(str(n) for n in f["case_no"][(f[who] == code) & masks[name]])
    actions, on_time_only = EVENT_COUNTS[kind.value][name]
    return uow.evaluation.event_cases(start, end, code, actions, True if on_time_only else None)


def _missed_cases(uow: EvaluationUnitOfWork, f: CaseFacts, supervisor: str) -> list[str]:
    mask = missed_mask(f)
    patrolled = uow.evaluation.grid_supervisors(sorted(set(f["grid_code"][mask])))
    return sorted(str(n) for n, g in zip(f["case_no"][mask], f["grid_code"][mask], strict=True)
                  if patrolled.get(g) == supervisor)  # fmt: skip


def hotspot_cases(period: str, key: str, uow: EvaluationUnitOfWork) -> list[str]:
    """The cases filed in the period in one hot spot (its ``key`` from the result)."""
    when = Period.parse(period)
    with uow:
        f = read_inputs(uow.evaluation, when).facts
    filed = f["filed_in"] > 0
    return sorted(str(n) for n in f["case_no"][filed][_hotspot_keys(f)[filed] == key])


def count_label(name: str) -> str:
    return COUNT_LABELS.get(name, name)


# ----- freezing and appeals ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FreezePeriod:
    period: str
    actor: str


def freeze_period(cmd: FreezePeriod, uow: EvaluationUnitOfWork, clock: Clock, progress: Progress = no_progress) -> str:
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


def file_appeal(cmd: FileAppeal, uow: EvaluationUnitOfWork, clock: Clock) -> int:
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
    if cmd.case_no not in drilled.deducted_cases:
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


def decide_appeal(cmd: DecideAppeal, uow: EvaluationUnitOfWork, clock: Clock) -> AppealDecided:
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


def list_appeals(period: str, uow: EvaluationUnitOfWork) -> list[dict[str, Any]]:
    """A period's appeals, oldest first, with their decisions."""
    with uow:
        return uow.evaluation.appeals(Period.parse(period).key)


def audit_trail(period: str, uow: EvaluationUnitOfWork) -> list[dict[str, Any]]:
    """Every freeze, appeal and decision of a period, oldest first."""
    with uow:
        return uow.evaluation.audit(Period.parse(period).key)
