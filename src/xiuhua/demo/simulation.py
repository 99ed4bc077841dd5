"""A simulated month of the demo city: reports and staff actions driven through the real use cases.

A deterministic discrete-event simulation (``random.Random(seed)``): a priority queue of timed events
moves a simulated clock forward; each event is one use case (report_case, act_on_case or the hourly
sweep) in its own unit of work, exactly as the entry points call them. Staff act after delays drawn
relative to each step's deadline, mostly on time and sometimes late, and take the special paths
(verification refuted, duplicates merged, wrong dispatch returned, extension, parking, failed check,
urging, self-disposal audit) at realistic shares. Events due after the last simulated day are not run,
so the city is left with cases in every state.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import random
import struct
import zlib
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry.base import BaseGeometry

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import Acted, ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import Action, Source, State, transition_for
from xiuhua.cases.services.deadlines import sweep
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.demo.city import URBAN_DISTRICTS
from xiuhua.geo.domain.components import Component, ComponentFilter, ComponentStatus
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR, Actor
from xiuhua.kernel.errors import DomainError, InvalidInputError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.kernel.ports import EvidenceStore, Progress, no_progress
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind, OrgKind, RegionLevel
from xiuhua.org.services.actors import load_actor
from xiuhua.ports import ApplicationUnitOfWork

A = Action

SOURCE_WEIGHTS: dict[Source, float] = {
    Source.SUPERVISOR: 55,
    Source.PUBLIC: 15,
    Source.HOTLINE: 12,
    Source.VIDEO: 5,
    Source.SENSOR: 4,
    Source.LEADER: 2,
    Source.TRANSFER: 2,
    Source.SELF_DISPOSAL: 5,
}
LON_RANGE = (114.30, 114.40)
LAT_RANGE = (34.76, 34.83)
AREA_WEIGHTS = {"A": 30, "B": 50, "C": 20}
URGENT_SHARE = 0.05
LATE_SHARE = 0.12  # of staff actions taken after the step's deadline
DUPLICATE_SHARE = 0.04  # of reports (not by supervisors) about a problem already reported nearby
REFUTE_SHARE = 0.10
VOID_AT_FILING_SHARE = 0.04
WRONG_DISPATCH_SHARE = 0.08
EXTENSION_SHARE = 0.06
EXTENSION_APPROVED_SHARE = 0.8
PARK_SHARE = 0.15  # of cases with a long disposal window (about 3 % of all dispatched cases)
PARK_MIN_WINDOW = timedelta(days=3)  # 挂账 is for problems that take long to solve
RESUME_SHARE = 0.5
CHECK_FAIL_SHARE = 0.10
LEADER_URGE_SHARE = 0.03
SELF_DISPOSAL_REJECT_SHARE = 0.10
REST_DAY_PATROL_SHARE = 0.35  # supervisors' reports on a rest day, relative to a workday
PATROL_SOURCES = frozenset({Source.SUPERVISOR, Source.SELF_DISPOSAL, Source.LEADER, Source.TRANSFER})
APPROVAL_LIMIT = TimeLimit.parse("4工作时")  # how soon the dispatcher answers a return request
EXTENSION_REVIEW_LIMIT = TimeLimit.parse("2工作日")  # an extension is reviewed (the disposal clock waits)
PARK_REVIEW_LIMIT = TimeLimit.parse("3工作日")  # a parking request is reviewed longer
_TICK, _TICK_SECONDS = TimeLimit.parse("0.01工作时"), timedelta(seconds=36)
DAY_START, DAY_END = time(7), time(22)  # when citizens call and staff act, unless a deadline needs the night

ACCEPTORS = ("acceptor1", "acceptor2", "acceptor3")
SHIFT_LEADER = "shiftleader1"
LEADER = "leader"
URGEABLE = frozenset(s for s in State if transition_for(s, A.URGE))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
REFUTE_REASONS = ("现场核实未发现该问题", "问题已自行消失，现场无异常", "举报位置与实际不符，未发现问题")
VOID_REASONS = ("不属于城市管理范畴，转相关单位处理", "信息不全无法立案", "属于私人产权范围，不予立案")
RETURN_REASONS = ("不属于本单位职责范围，申请回退", "该设施产权不属于本单位，请重新派遣")
EXTENSION_REASONS = ("需采购材料，申请延期", "施工量较大，需协调多部门，申请延期", "受天气影响无法施工，申请延期")
EXTENSION_REJECT_REASONS = ("延期理由不充分，请按期处置", "该问题影响市民出行，须尽快处置")
PARK_REASONS = ("涉及历史遗留问题，需纳入年度计划解决", "需列入改造工程统一处置，申请挂账")
RESUME_REASONS = ("改造工程已启动，恢复处置", "条件已具备，恢复处置")
CHECK_FAIL_REASONS = ("现场复查问题仍存在", "处置不彻底，现场仍有遗留", "处置结果不符合结案标准")
REWORK_REASONS = ("核查未通过，返工处置", "问题未彻底解决，请重新处置")
URGE_REASONS = ("市民反映强烈，请加快处置", "领导关注，请限期办结", "该问题影响较大，请尽快处置")
SELF_DISPOSAL_REJECT_REASONS = ("自处理照片不清晰，无法确认已处置", "问题未彻底解决，转入常规流程")
DESCRIPTIONS = {
    Source.SUPERVISOR: "巡查发现{name}问题，请及时处置",
    Source.PUBLIC: "市民通过随手拍反映{name}问题",
    Source.HOTLINE: "市民来电反映：{name}问题，影响出行",
    Source.VIDEO: "视频智能分析发现疑似{name}问题",
    Source.SENSOR: "物联感知设备报警：{name}异常",
    Source.LEADER: "领导交办：{name}问题，请尽快处理",
    Source.TRANSFER: "部门移交：{name}问题",
    Source.SELF_DISPOSAL: "巡查发现{name}问题，已现场自行处置",
}
DUPLICATE_NOTE = "（附近已有同类问题上报，疑似重复）"
_TO_DISPATCH = (A.ACCEPT, A.FILE, A.DISPATCH)
_TO_CHECK = (*_TO_DISPATCH, A.FEEDBACK, A.SEND_CHECK)
# How a supervisor's report (a citizen's for 核实中, a self-disposal for 自处理) reaches each state.
STAGING: dict[State, tuple[Action, ...]] = {
    State.VERIFYING: (A.SEND_VERIFY,),
    State.ACCEPTED: (A.ACCEPT,),
    State.FILED: (A.ACCEPT, A.FILE),
    State.DISPATCHED: _TO_DISPATCH,
    State.RETURN_REQUESTED: (*_TO_DISPATCH, A.RETURN),
    State.EXTENSION_REQUESTED: (*_TO_DISPATCH, A.REQUEST_EXTENSION),
    State.PARK_REQUESTED: (*_TO_DISPATCH, A.REQUEST_PARK),
    State.PARKED: (*_TO_DISPATCH, A.REQUEST_PARK, A.APPROVE),
    State.DISPOSED: (*_TO_DISPATCH, A.FEEDBACK),
    State.CHECKING: _TO_CHECK,
    State.CHECKED: (*_TO_CHECK, A.CHECK_PASS),
    State.CLOSED: (*_TO_CHECK, A.CHECK_PASS, A.CLOSE),
    State.VOIDED: (A.ACCEPT, A.VOID),
}


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    days: int = 30
    seed: int = 1
    start: datetime = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=8)))
    """Local midnight of the first simulated day (an aware datetime)."""
    reports_per_day: int = 60

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise InvalidInputError("simulation.naive_start", "模拟开始时间须带时区")
        if self.days < 1:
            raise InvalidInputError("simulation.bad_days", "模拟天数须至少为 1")
        if self.reports_per_day < 0:
            raise InvalidInputError("simulation.bad_rate", "每日上报数不能为负")


@dataclass
class SimulationSummary:
    cases: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    """State value → number of cases in it at the end."""
    by_source: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    """Action value → how many were taken (the sweep's automatic urging included)."""
    sweeps: int = 0
    overdue_marked: int = 0
    auto_urged: int = 0
    failures: list[str] = field(default_factory=list)
    """Actions that a use case refused (there should be none)."""


class _SimClock:
    """The simulation's own time; it moves only between events."""

    def __init__(self, start: datetime) -> None:
        self.moment = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.moment


@dataclass
class _Case:
    """What the simulation knows about one of its cases (the service's answers keep it current)."""

    case_no: str
    source: Source
    kind: ClassKind
    class_code: str
    location: Location
    urgency: Urgency
    reported_at: datetime
    state: State = State.REPORTED
    duplicate_of: str | None = None
    suggested: str | None = None
    department: str | None = None
    wrong_dispatch: bool | None = None  # decided at the first dispatch
    plan_extension: bool = False
    plan_park: bool = False
    check_failed: bool = False
    refuted: bool = False
    feedbacks: int = 0

    @property
    def supervisor(self) -> str:
        return f"supervisor_{self.location.street_code}"

    @property
    def dispatcher(self) -> str:
        return f"dispatcher_{self.location.district_code}"


@dataclass(frozen=True, slots=True)
class _Street:
    code: str
    name: str
    district_code: str
    district_name: str
    communities: tuple[tuple[str, str], ...]  # (code, name)


Event = Callable[[], None]


class _Simulation:
    def __init__(
        self,
        config: SimulationConfig,
        uow_factory: Callable[[], ApplicationUnitOfWork],
        policy: CasePolicy,
        store: EvidenceStore,
        progress: Progress,
    ) -> None:
        self.config, self.uow_factory, self.policy, self.store, self.progress = (
            config, uow_factory, policy, store, progress
        )  # fmt: skip
        self.rng = random.Random(config.seed)
        self.clock = _SimClock(config.start)
        self.calendar = policy.timing.calendar
        self.zone = ZoneInfo(self.calendar.tz)
        self.start = config.start.astimezone(UTC)
        self.end = self.start + timedelta(days=config.days)
        self.queue: list[tuple[datetime, int, Event]] = []
        self.seq = itertools.count()
        self.actors: dict[str, Actor] = {}
        self.cases: list[_Case] = []
        self.recent: deque[_Case] = deque(maxlen=200)
        self.summary = SimulationSummary()
        self.actions: Counter[str] = Counter()
        self.photos = 0
        self._load_city()
        workdays = sum(self.is_workday(day) for day in range(config.days))
        rest_days = config.days - workdays
        # Patrols follow the working week; scale them so a day averages reports_per_day over the run.
        self.patrol_factor = config.days / (workdays + REST_DAY_PATROL_SHARE * rest_days)

    # ----- the city --------------------------------------------------------------------------------
    def _load_city(self) -> None:
        with self.uow_factory() as uow:
            regions = uow.regions.all()
            standards = uow.catalog.standards()
            names = {(c.kind, c.code): c.name for c in uow.catalog.classes()}
            orgs = uow.organizations.all()
            grids = uow.geo.grids()
        self.grids_by_street: dict[str, list[tuple[str, BaseGeometry, str]]] = {}
        for grid in grids:
            self.grids_by_street.setdefault(grid[0][:9], []).append(grid)
        by_code = {r.code: r for r in regions}
        communities: dict[str, list[tuple[str, str]]] = {}
        for r in regions:
            if r.level is RegionLevel.COMMUNITY and r.parent_code:
                communities.setdefault(r.parent_code, []).append((r.code, r.name))
        self.streets = [
            _Street(r.code, r.name, r.parent_code, by_code[r.parent_code].name, tuple(sorted(communities[r.code])))
            for r in sorted(regions, key=lambda r: r.code)
            if r.level is RegionLevel.STREET and r.parent_code in URBAN_DISTRICTS and communities.get(r.code)
        ]
        if self.grids_by_street:  # where the city is mapped, problems are reported on the map
            self.streets = [street for street in self.streets if street.code in self.grids_by_street]
        if not self.streets:
            raise InvalidInputError("simulation.no_city", "没有可模拟的城区街道，请先建立演示城市")
        self.standards: dict[tuple[ClassKind, str], list[int]] = {}
        for s in sorted(standards, key=lambda s: s.id or 0):
            if s.id is not None:
                self.standards.setdefault((s.kind, s.code), []).append(s.id)
        if not self.standards:
            raise InvalidInputError("simulation.no_standards", "没有立案标准，请先建立演示城市")
        self.classes = sorted(self.standards)
        self.class_names = {key: names.get(key, key[1]) for key in self.classes}
        self.class_weights = [_class_weight(kind, code) for kind, code in self.classes]
        self.departments = sorted(o.code for o in orgs if o.kind is OrgKind.DEPARTMENT)
        self.department_names = {o.code: o.name for o in orgs}

    def actor(self, username: str) -> Actor:
        if username not in self.actors:
            self.actors[username] = load_actor(self.uow_factory(), username)
        return self.actors[username]

    # ----- the event loop --------------------------------------------------------------------------
    def at(self, moment: datetime, event: Event) -> None:
        if moment < self.end:
            heapq.heappush(self.queue, (max(moment, self.clock.now()), next(self.seq), event))

    def run(self) -> SimulationSummary:
        for day in range(self.config.days):
            self.at(self.start + timedelta(days=day), partial(self.begin_day, day))
        while self.queue:
            moment, _, event = heapq.heappop(self.queue)
            self.clock.moment = moment
            event()
        self.cover_the_rest()
        self.clock.moment = self.end
        self.progress("模拟完成", self.config.days, self.config.days)
        s = self.summary
        s.cases = len(self.cases)
        s.by_state = dict(sorted(Counter(c.state.value for c in self.cases).items()))
        s.by_source = dict(sorted(Counter(c.source.value for c in self.cases).items()))
        s.actions = dict(sorted(self.actions.items()))
        return s

    def cover_the_rest(self) -> None:
        """End the month with a case in every state and from every source. Where chance left one empty,
        a case is taken there in the last hour through the same use cases (a queue that happens to be
        empty at midnight is still a queue the console must show)."""
        self.queue.clear()
        self.clock.moment = max(self.clock.moment, self.end - timedelta(hours=1))
        for source in Source:
            if not any(c.source is source for c in self.cases):
                self.tick()
                self.report(source)
        for state in State:
            if not any(c.state is state for c in self.cases):
                self.stage(state)
        self.queue.clear()  # what the staged reports planned lies beyond the month

    def tick(self) -> None:
        self.clock.moment += timedelta(seconds=self.rng.uniform(30, 90))

    def stage(self, state: State) -> None:
        sources = {State.VERIFYING: Source.PUBLIC, State.SELF_DISPOSED: Source.SELF_DISPOSAL}
        count = len(self.cases)
        self.tick()
        self.report(sources.get(state, Source.SUPERVISOR))
        if len(self.cases) == count:
            return
        case = self.cases[-1]
        for action in STAGING.get(state, ()):
            self.tick()
            if self.act(case, action, self.staff_for(case, action), **self.params_for(case, action)) is None:
                return

    def staff_for(self, case: _Case, action: Action) -> str:
        if action in (A.SEND_VERIFY, A.ACCEPT, A.SEND_CHECK):
            return ACCEPTORS[0]
        if action in (A.FILE, A.VOID, A.CLOSE):
            return SHIFT_LEADER
        if action in (A.DISPATCH, A.APPROVE):
            return case.dispatcher
        if action is A.CHECK_PASS:
            return case.supervisor
        return f"handler_{(case.department or '').lower()}"

    def params_for(self, case: _Case, action: Action) -> dict[str, object]:
        reasons = {
            A.VOID: VOID_REASONS,
            A.RETURN: RETURN_REASONS,
            A.REQUEST_EXTENSION: EXTENSION_REASONS,
            A.REQUEST_PARK: PARK_REASONS,
        }
        params: dict[str, object] = {"reason": self.rng.choice(reasons[action])} if action in reasons else {}
        if action is A.FILE:
            params["standard_id"] = self.standards[(case.kind, case.class_code)][0]
        if action is A.REQUEST_EXTENSION:
            params["extension"] = "1工作日"
        if action is A.FEEDBACK:
            params["photos"] = (self.photo(f"case {case.case_no} after"),)
        return params

    def begin_day(self, day: int) -> None:
        self.progress(f"模拟第 {day + 1} 天", day, self.config.days)
        midnight = self.start + timedelta(days=day)
        for hour in range(24):
            self.at(midnight + timedelta(hours=hour, minutes=0 if hour else 1), self.sweep)
        workday = self.is_workday(day)
        factor = self.patrol_factor * (1 if workday else REST_DAY_PATROL_SHARE)
        weights = [w * factor if s in PATROL_SOURCES else w for s, w in SOURCE_WEIGHTS.items()]
        rate = self.config.reports_per_day * sum(weights) / sum(SOURCE_WEIGHTS.values())
        count = max(0, round(self.rng.gauss(rate, math.sqrt(rate)))) if rate else 0
        for source in self.rng.choices(list(SOURCE_WEIGHTS), weights, k=count):
            moment = midnight + self.report_offset(source, workday)
            self.at(moment, partial(self.report, source))

    def is_workday(self, day: int) -> bool:
        return self.calendar.is_workday((self.start + timedelta(days=day)).astimezone(self.zone).date())

    def report_offset(self, source: Source, workday: bool) -> timedelta:
        """When in the day a report of this source comes in."""
        r = self.rng
        if source in (Source.VIDEO, Source.SENSOR):
            return timedelta(seconds=r.uniform(0, 86_400))
        if source in (Source.PUBLIC, Source.HOTLINE):
            return timedelta(hours=r.uniform(7, 22))
        if not workday:
            return timedelta(hours=r.uniform(9, 17))
        shift = r.random()
        day_shift = {Source.SUPERVISOR: 0.82, Source.SELF_DISPOSAL: 0.45}.get(source, 1.0)
        if shift < day_shift:
            minute = r.uniform(0, 480)  # on patrol in working hours: 08:00–12:00, 14:00–18:00
            return timedelta(minutes=480 + minute if minute < 240 else 840 + minute - 240)
        if shift < day_shift + 0.06:
            return timedelta(hours=r.uniform(7, 8))  # early patrol
        # Evening patrol (night markets, street stalls), when small problems are often fixed on the spot.
        return timedelta(hours=r.uniform(18, 21.5))

    def sweep(self) -> None:
        try:
            report = sweep(self.uow_factory(), self.clock, self.policy)
        except DomainError as exc:
            self.fail("sweep", exc)
            return
        self.summary.sweeps += 1
        self.summary.overdue_marked += report.overdue
        self.summary.auto_urged += len(report.urged)
        self.actions[A.URGE.value] += len(report.urged)

    def fail(self, what: str, exc: DomainError) -> None:
        self.summary.failures.append(f"{self.clock.now().astimezone(self.zone):%Y-%m-%d %H:%M} {what}: {exc}")

    # ----- reporting -------------------------------------------------------------------------------
    def report(self, source: Source) -> None:
        r = self.rng
        original = self.duplicate_target(source)
        if original is not None:
            kind, class_code = original.kind, original.class_code
            o = original.location
            location = Location(
                round(o.lon + r.uniform(-1e-4, 1e-4), 6), round(o.lat + r.uniform(-1e-4, 1e-4), 6),
                o.address, o.district_code, o.street_code, o.community_code, o.grid_code, o.area_class,
            )  # fmt: skip
        else:
            kind, class_code = self.pick_class(source)
            location = self.pick_location()
        component = self.component_at(kind, class_code, location) if original is None else None
        if component is not None:  # the problem is a registered facility: report it where it stands
            location = dataclasses.replace(
                location, lon=component.lon, lat=component.lat, grid_code=component.grid_code
            )
        urgency = Urgency.URGENT if r.random() < URGENT_SHARE else Urgency.NORMAL
        name = self.class_names[(kind, class_code)]
        description = DESCRIPTIONS[source].format(name=name) + (DUPLICATE_NOTE if original else "")
        reporter, phone = "", None
        if source in (Source.SUPERVISOR, Source.SELF_DISPOSAL):
            actor = self.actor(f"supervisor_{location.street_code}")
        elif source in (Source.VIDEO, Source.SENSOR):
            actor = SYSTEM_ACTOR
            device = "视频监控点" if source is Source.VIDEO else "物联感知设备"
            reporter = f"{device} {location.street_code[-3:]}-{r.randrange(1, 100):02d}"
        elif source is Source.LEADER:
            actor = self.actor(LEADER)
        else:
            actor = self.actor(ACCEPTORS[0])
            if source is Source.TRANSFER:
                reporter = self.department_names[r.choice(self.departments)]
            else:
                reporter = r.choice(SURNAMES) + r.choice(("先生", "女士"))
                phone = f"1{r.choice('3578')}{r.randrange(10**9):09d}"
        photos: tuple[StoredFile, ...] = ()
        if source in (Source.SUPERVISOR, Source.SELF_DISPOSAL, Source.VIDEO):
            photos = (self.photo(f"report {len(self.cases) + 1}"),)
        cmd = ReportCase(
            actor, source, kind, class_code, location, description, urgency, reporter, phone,
            component_id=component.id if component else None, photos=photos,
        )  # fmt: skip
        try:
            reported = report_case(cmd, self.uow_factory(), self.clock, self.policy)
        except DomainError as exc:
            self.fail(f"report {source.value} {class_code}", exc)
            return
        case = _Case(reported.case_no, source, kind, class_code, location, urgency, self.clock.now())
        if source is Source.SELF_DISPOSAL:
            case.state = State.SELF_DISPOSED
        elif reported.duplicates:
            case.duplicate_of = reported.duplicates[0][0]
        self.cases.append(case)
        self.recent.append(case)
        self.actions[A.REPORT.value] += 1
        self.plan(case, self.step_due(case))

    def component_at(self, kind: ClassKind, class_code: str, location: Location) -> Component | None:
        """A registered component of this class in the report's community, if the census has one."""
        if kind is not ClassKind.COMPONENT:
            return None
        where = ComponentFilter(community_code=location.community_code, class_code=class_code, limit=50)
        with self.uow_factory() as uow:
            found = [c for c in uow.components.find(where) if c.status is not ComponentStatus.REMOVED]
        return self.rng.choice(found) if found else None

    def duplicate_target(self, source: Source) -> _Case | None:
        """Now and then a citizen or a camera reports a problem someone reported a little earlier."""
        if source in (Source.SUPERVISOR, Source.SELF_DISPOSAL) or self.rng.random() >= DUPLICATE_SHARE:
            return None
        horizon = self.clock.now() - timedelta(hours=48)
        candidates = [c for c in self.recent if not c.state.final and c.reported_at >= horizon]
        return self.rng.choice(candidates) if candidates else None

    def pick_class(self, source: Source) -> tuple[ClassKind, str]:
        if source is Source.SENSOR:
            pool = [c for c in self.classes if c[0] is ClassKind.COMPONENT and c[1][:2] == "01"]
        elif source is Source.VIDEO:
            pool = [c for c in self.classes if c[0] is ClassKind.MATTER]
        else:
            pool = []
        if pool:
            return self.rng.choice(pool)
        return self.rng.choices(self.classes, self.class_weights)[0]

    def pick_location(self) -> Location:
        r = self.rng
        street = r.choice(self.streets)
        grids = self.grids_by_street.get(street.code)
        if grids:  # a point inside one of the street's unit grids
            code, polygon, area_class = r.choice(grids)
            minx, miny, maxx, maxy = polygon.bounds
            while True:
                lon, lat = r.uniform(minx, maxx), r.uniform(miny, maxy)
                if shapely.contains_xy(polygon, lon, lat):
                    break
            community = code[:12]
            name = dict(street.communities).get(community, "")
            address = f"{street.district_name}{street.name}{name}{r.randrange(1, 300)}号附近"
            return Location(round(lon, 6), round(lat, 6), address, street.district_code, street.code, community, code,
                            area_class)  # fmt: skip
        community_code, community_name = r.choice(street.communities)
        address = f"{street.district_name}{street.name}{community_name}{r.randrange(1, 300)}号附近"
        area = r.choices(list(AREA_WEIGHTS), list(AREA_WEIGHTS.values()))[0]
        return Location(
            round(r.uniform(*LON_RANGE), 6), round(r.uniform(*LAT_RANGE), 6), address,
            street.district_code, street.code, community_code, None, area,
        )  # fmt: skip

    def photo(self, label: str) -> StoredFile:
        self.photos += 1
        return self.store.put(_png(f"xiuhua simulation seed {self.config.seed}: {label}", self.photos))

    def step_due(self, case: _Case) -> datetime | None:
        with self.uow_factory() as uow:
            stored = uow.cases.get(case.case_no)
        return stored.due_at if stored else None

    # ----- acting ----------------------------------------------------------------------------------
    def act(self, case: _Case, action: Action, username: str, **params: object) -> Acted | None:
        cmd = ActOnCase(case.case_no, action, self.actor(username), **params)  # type: ignore[arg-type]
        try:
            acted = act_on_case(cmd, self.uow_factory(), self.clock, self.policy)
        except DomainError as exc:
            self.fail(f"{case.case_no} {action.value} by {username}", exc)
            return None
        self.actions[action.value] += 1
        case.state = acted.state
        case.department = acted.department_code or case.department
        return acted

    def then(self, case: _Case, action: Action, username: str, **params: object) -> None:
        """Take an action now, then plan the case's next one from its new deadline."""
        acted = self.act(case, action, username, **params)
        if acted is not None:
            self.plan(case, acted.due_at)

    def later(self, moment: datetime, case: _Case, action: Action, username: str, **params: object) -> None:
        self.at(moment, partial(self.then, case, action, username, **params))

    def when(
        self,
        due: datetime | None,
        *,
        late_share: float = LATE_SHARE,
        cap: timedelta | None = None,
        office: bool = False,
    ) -> datetime:
        """When a member of staff acts on a step due at ``due``: mostly before it, sometimes after.

        Office work (reviews, audits) happens in working time; the rest between 07:00 and 22:00 unless
        the deadline needs a night shift.
        """
        r, now = self.rng, self.clock.now()
        moment, target = now + timedelta(minutes=r.uniform(20, 180)), None
        if due is not None and due > now + timedelta(minutes=2):
            span = due - now
            if cap is not None and span > cap:
                span, due = cap, now + cap
            if r.random() < late_share:
                moment = due + max(span * r.uniform(0.2, 1.0), timedelta(minutes=r.uniform(10, 360)))
            elif office:  # a share of the working time left before the deadline
                worked = self.calendar.elapsed(now, due).total_seconds() / 3600 * r.uniform(0.1, 0.9)
                return self.calendar.deadline(now, TimeLimit(Decimal(f"{worked:.2f}"), "工作时"))
            else:
                moment, target = now + span * r.uniform(0.1, 0.9), due
        return self.office_time(moment, target) if office else self.daytime(moment, target)

    def daytime(self, moment: datetime, due: datetime | None) -> datetime:
        """Move an action that would fall in the night to the next morning, unless that misses ``due``."""
        local = moment.astimezone(self.zone)
        if DAY_START <= local.time() < DAY_END:
            return moment
        day = local.date() + timedelta(days=1) if local.time() >= DAY_END else local.date()
        morning = datetime.combine(day, DAY_START, tzinfo=self.zone).astimezone(UTC)
        return self._shift(moment, morning, due)

    def office_time(self, moment: datetime, due: datetime | None) -> datetime:
        """Move an action outside working time to the start of the next working period."""
        opens = self.calendar.deadline(moment, _TICK) - _TICK_SECONDS
        if opens <= moment + timedelta(seconds=1):
            return moment
        return self._shift(moment, opens, due)

    def _shift(self, moment: datetime, opens: datetime, due: datetime | None) -> datetime:
        if due is None:
            return opens + timedelta(minutes=self.rng.uniform(0, 90))
        if opens + timedelta(minutes=5) < due:
            return opens + min(due - opens, timedelta(minutes=90)) * self.rng.uniform(0.1, 0.9)
        return moment  # night duty: the deadline runs through the night (urgent cases)

    def approval_due(self) -> datetime:
        return self.calendar.deadline(self.clock.now(), APPROVAL_LIMIT)

    def plan(self, case: _Case, due: datetime | None) -> None:
        """Schedule the next action on a case from its state (one pending action per case)."""
        r, s = self.rng, case.state
        acceptor = r.choice(ACCEPTORS)
        if s is State.REPORTED:
            if case.duplicate_of:
                reason = f"与案件 {case.duplicate_of} 反映同一问题，合并处理"
                self.later(self.when(due), case, A.VOID, acceptor, reason=reason, duplicate_of=case.duplicate_of)
            elif case.source.needs_verification:
                self.later(self.when(due), case, A.SEND_VERIFY, acceptor)
            else:
                self.later(self.when(due), case, A.ACCEPT, acceptor)
        elif s is State.SELF_DISPOSED:
            if r.random() < SELF_DISPOSAL_REJECT_SHARE:
                reason = r.choice(SELF_DISPOSAL_REJECT_REASONS)
                self.later(self.when(due, office=True), case, A.REJECT, SHIFT_LEADER, reason=reason)
            else:
                self.later(self.when(due, office=True), case, A.CLOSE, SHIFT_LEADER)
        elif s is State.VERIFYING:
            if r.random() < REFUTE_SHARE:
                case.refuted = True
                self.later(self.when(due), case, A.REFUTE, case.supervisor, reason=r.choice(REFUTE_REASONS))
            else:
                self.later(self.when(due), case, A.VERIFY, case.supervisor)
        elif s is State.ACCEPTED:
            if case.refuted:
                self.later(self.when(due), case, A.VOID, SHIFT_LEADER, reason="核实不属实，予以作废")
            elif r.random() < VOID_AT_FILING_SHARE:
                self.later(self.when(due), case, A.VOID, SHIFT_LEADER, reason=r.choice(VOID_REASONS))
            else:
                standard = r.choice(self.standards[(case.kind, case.class_code)])
                self.later(self.when(due), case, A.FILE, SHIFT_LEADER, standard_id=standard)
        elif s is State.FILED:
            self.at(self.when(due), partial(self.dispatch, case))
        elif s is State.DISPATCHED:
            self.plan_disposal(case, due)
        elif s is State.RETURN_REQUESTED:
            self.later(self.when(self.approval_due(), office=True), case, A.APPROVE, case.dispatcher)
        elif s is State.EXTENSION_REQUESTED:
            review = self.when(self.calendar.deadline(self.clock.now(), EXTENSION_REVIEW_LIMIT), office=True)
            if r.random() < EXTENSION_APPROVED_SHARE:
                self.later(review, case, A.APPROVE, case.dispatcher)
            else:
                reason = r.choice(EXTENSION_REJECT_REASONS)
                self.later(review, case, A.REJECT, case.dispatcher, reason=reason)
        elif s is State.PARK_REQUESTED:
            self.review_park(case, due)
        elif s is State.PARKED:
            if r.random() < RESUME_SHARE:
                moment = self.office_time(self.clock.now() + timedelta(days=r.uniform(2, 10)), None)
                self.later(moment, case, A.RESUME, case.dispatcher, reason=r.choice(RESUME_REASONS))
        elif s is State.DISPOSED:
            self.later(self.when(due), case, A.SEND_CHECK, acceptor)
        elif s is State.CHECKING:
            if r.random() < CHECK_FAIL_SHARE:
                case.check_failed = True
                self.later(self.when(due), case, A.CHECK_FAIL, case.supervisor, reason=r.choice(CHECK_FAIL_REASONS))
            else:
                case.check_failed = False
                self.later(self.when(due), case, A.CHECK_PASS, case.supervisor)
        elif s is State.CHECKED:
            if case.check_failed:
                self.later(self.when(due), case, A.REWORK, SHIFT_LEADER, reason=r.choice(REWORK_REASONS))
            else:
                self.later(self.when(due), case, A.CLOSE, SHIFT_LEADER)

    def dispatch(self, case: _Case) -> None:
        """The district dispatcher dispatches; the first time, now and then to the wrong department."""
        r = self.rng
        if case.suggested is None:
            case.suggested = self.policy.router.suggest(case.kind, case.class_code, case.location.region_codes)
        wrong = None
        if case.wrong_dispatch is None:
            case.wrong_dispatch = r.random() < WRONG_DISPATCH_SHARE
            if case.wrong_dispatch:
                # a wrong department, but one serving the place: a dispatcher may not go beyond its jurisdiction
                serving = [d.code for d in self.policy.router.departments
                           if d.code != case.suggested and d.serves(case.location.region_codes)]  # fmt: skip
                wrong = r.choice(serving) if serving else None
            else:
                case.plan_extension = r.random() < EXTENSION_SHARE
                case.plan_park = not case.plan_extension and r.random() < PARK_SHARE
        acted = self.act(case, A.DISPATCH, case.dispatcher, department_code=wrong)
        if acted is None:
            return
        case.department = wrong or case.suggested
        if wrong is None and case.feedbacks == 0 and r.random() < LEADER_URGE_SHARE:
            moment = self.office_time(self.clock.now() + timedelta(hours=r.uniform(4, 72)), None)
            self.at(moment, partial(self.urge, case))
        self.plan(case, acted.due_at)

    def urge(self, case: _Case) -> None:
        if case.state in URGEABLE:
            self.act(case, A.URGE, LEADER, reason=self.rng.choice(URGE_REASONS))

    def plan_disposal(self, case: _Case, due: datetime | None) -> None:
        r = self.rng
        handler = f"handler_{(case.department or '').lower()}"
        if case.department != case.suggested:
            moment = self.when(due, late_share=0, cap=timedelta(hours=4))
            self.later(moment, case, A.RETURN, handler, reason=r.choice(RETURN_REASONS))
        elif case.plan_extension:
            case.plan_extension = False
            extension = r.choice(("1工作日", "2工作日", "4工作时"))
            moment = self.when(due, late_share=0)
            self.later(moment, case, A.REQUEST_EXTENSION, handler, reason=r.choice(EXTENSION_REASONS),
                       extension=extension)  # fmt: skip
        elif case.plan_park and due is not None and due - self.clock.now() >= PARK_MIN_WINDOW:
            case.plan_park = False
            moment = self.daytime(self.clock.now() + (due - self.clock.now()) * r.uniform(0.05, 0.3), due)
            self.later(moment, case, A.REQUEST_PARK, handler, reason=r.choice(PARK_REASONS))
        else:
            self.at(self.when(due), partial(self.feedback, case, handler))

    def review_park(self, case: _Case, due: datetime | None) -> None:
        """Approve a parking request before the disposal deadline passes, else refuse it.

        (A case flagged overdue and then parked keeps its flag with no deadline, which the sweep cannot
        handle; see the report on services.deadlines.)
        """
        now = self.clock.now()
        review = self.calendar.deadline(now, PARK_REVIEW_LIMIT)
        if due is not None and due - timedelta(hours=1) < review:
            review = due - timedelta(hours=1)
        if review <= now + timedelta(minutes=10):
            reason = "临近处置时限，不予挂账，请按期处置"
            self.later(now + timedelta(minutes=5), case, A.REJECT, case.dispatcher, reason=reason)
        else:
            self.later(self.when(review, late_share=0, office=True), case, A.APPROVE, case.dispatcher)

    def feedback(self, case: _Case, handler: str) -> None:
        case.feedbacks += 1
        photo = self.photo(f"case {case.case_no} after {case.feedbacks}")
        self.then(case, A.FEEDBACK, handler, photos=(photo,))


def simulate(
    config: SimulationConfig,
    uow_factory: Callable[[], ApplicationUnitOfWork],
    policy: CasePolicy,
    store: EvidenceStore,
    progress: Progress = no_progress,
) -> SimulationSummary:
    """Run the demo city (built beforehand by build_demo) for ``config.days`` simulated days.

    Deterministic for a seed on a fresh database; a refused action is counted in ``failures`` and the
    run goes on.
    """
    return _Simulation(config, uow_factory, policy, store, progress).run()


def _class_weight(kind: ClassKind, code: str) -> float:
    """Everyday matters (majors 06 and 09) and the public-facility components (major 01) come up most."""
    if kind is ClassKind.MATTER and code[:2] in ("06", "09"):
        return 3.0
    if kind is ClassKind.COMPONENT and code[:2] == "01":
        return 3.0
    return 1.0


def _png(text: str, serial: int, size: int = 8) -> bytes:
    """A small valid PNG, unique by its colour and a tEXt chunk."""
    rgb = bytes(((serial * 73) % 256, (serial * 151) % 256, (serial * 211) % 256))
    raw = b"".join(b"\x00" + rgb * size for _ in range(size))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    comment = b"Comment\x00" + text.encode("ascii", "replace")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", comment)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


__all__: Sequence[str] = ("SimulationConfig", "SimulationSummary", "simulate")
