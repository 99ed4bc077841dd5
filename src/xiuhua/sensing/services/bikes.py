"""Shared bikes: operators report their bikes' positions (batch files or a stream of the same rows); a bike
parked outside every permitted parking zone (components of class 02025 非机动车停放点, usually polygons) for
longer than its operator's grace period becomes a 共享单车乱象 case for that operator. Each operator's
compliance rate is the share of its reports that stood inside a zone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from xiuhua.cases.domain.commands import ReportCase, Reported
from xiuhua.cases.domain.workflow import Source
from xiuhua.geo.domain.components import ComponentFilter
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.errors import DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.importing import ImportReport, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row
from xiuhua.sensing.domain.model import CHINA
from xiuhua.sensing.ports import SensingUnitOfWork
from xiuhua.sensing.services.ingest import Locate

ZONE_CLASS = "02025"  # 非机动车停放点 (component)
DISORDER_CLASS = "09011"  # 共享单车乱象 (matter)
_CODE = re.compile(r"[a-z0-9_\-]{1,32}", re.IGNORECASE)


def import_operators(rows: Sequence[Row], uow: SensingUnitOfWork) -> ImportReport:
    """Register operators (columns code, name, account, grace_minutes); all or nothing."""
    check_columns(rows, "code", "name", "account")

    def parse(row: Row) -> dict[str, Any]:
        code = row.get("code")
        if not _CODE.fullmatch(code) or not row.get("name") or not row.get("account"):
            raise InvalidInputError("bikes.bad_operator", "运营企业须有 1–32 位编号、名称与账号")
        try:
            grace = int(row.get("grace_minutes") or 30)
        except ValueError:
            raise InvalidInputError("bikes.bad_grace", f"宽限分钟“{row.get('grace_minutes')}”不是整数") from None
        if grace < 0:
            raise InvalidInputError("bikes.bad_grace", "宽限分钟不能为负")
        return {"code": code, "name": row.get("name"), "account": row.get("account"), "grace_minutes": grace}

    parsed, errors = parse_rows(rows, parse)
    settle(errors, False)
    with uow:
        uow.sensing.upsert_bike_operators([p for _, p in parsed])
        uow.commit()
    return ImportReport(len(parsed))


@dataclass(frozen=True, slots=True)
class Position:
    operator: str
    bike_id: str
    lon: float
    lat: float
    at: datetime


def parse_position(row: Row) -> Position:
    """A position row (operator, bike_id, lon, lat, ts ISO 8601 with zone); raises InvalidInputError."""
    try:
        lon, lat = float(row.get("lon")), float(row.get("lat"))
        at = datetime.fromisoformat(row.get("ts").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError("bikes.bad_position", "经纬度应为数值，时间应为 ISO 8601") from None
    if at.tzinfo is None:
        raise InvalidInputError("bikes.bad_position", "时间缺少时区")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInputError("bikes.bad_position", f"经纬度（{lon}, {lat}）无效")
    if not _CODE.fullmatch(row.get("bike_id")):
        raise InvalidInputError("bikes.bad_bike", f"车辆编号“{row.get('bike_id')}”无效")
    return Position(row.get("operator"), row.get("bike_id"), lon, lat, at.astimezone(UTC))


@dataclass
class BikeReport:
    positions: int = 0
    inside: int = 0
    cases: list[str] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)
    case_errors: list[str] = field(default_factory=list)


def _zones(uow: SensingUnitOfWork) -> tuple[list[str], list[Any]]:
    zones = uow.components.find(ComponentFilter(class_code=ZONE_CLASS, limit=None))
    return [z.id for z in zones], [z.geometry for z in zones]


def ingest_positions(
    rows: Sequence[Row],
    uow: SensingUnitOfWork,
    clock: Clock,
    handle: Handle,
    locate: Locate,
    *,
    skip_invalid: bool = False,
) -> BikeReport:
    """Take a batch of positions: which zone each bike stands in (vectorised), how long it has stood outside,
    and open a case for each bike outside beyond its operator's grace period (once per time outside)."""
    check_columns(rows, "operator", "bike_id", "lon", "lat", "ts")
    with uow:
        operators = uow.sensing.bike_operators()

    def parse(row: Row) -> Position:
        position = parse_position(row)
        if position.operator not in operators:
            raise NotFoundError("bikes.unknown_operator", f"运营企业 {position.operator} 未登记")
        return position

    parsed, errors = parse_rows(rows, parse)
    report = BikeReport(skipped=settle(errors, skip_invalid))
    positions = sorted((p for _, p in parsed), key=lambda p: (p.operator, p.bike_id, p.at))
    report.positions = len(positions)
    if not positions:
        return report
    with uow:
        zone_ids, shapes = _zones(uow)
    zone_of = np.full(len(positions), -1, dtype=np.int64)
    if shapes:
        points = shapely.points([p.lon for p in positions], [p.lat for p in positions])
        hits = shapely.STRtree(shapes).query(points, predicate="within")
        zone_of[hits[0][::-1]] = hits[1][::-1]
    overdue: list[tuple[Position, datetime]] = []
    with uow:
        by_operator: dict[str, list[int]] = {}
        for i, p in enumerate(positions):
            by_operator.setdefault(p.operator, []).append(i)
        states_out: list[dict[str, Any]] = []
        for operator, indexes in by_operator.items():
            grace = timedelta(minutes=operators[operator].grace_minutes)
            stored = uow.sensing.bike_states(operator, sorted({positions[i].bike_id for i in indexes}))
            current: dict[str, dict[str, Any]] = {
                b: {k: getattr(r, k) for k in ("operator", "bike_id", "lon", "lat", "seen_at", "zone_id",
                                               "outside_since", "case_no")}
                for b, r in stored.items()
            }  # fmt: skip
            inside = taken = 0
            for i in indexes:
                p, zone = positions[i], int(zone_of[i])
                state = current.get(p.bike_id)
                if state is not None and p.at <= state["seen_at"]:
                    continue  # an old or repeated report
                taken += 1
                state = state or {"operator": operator, "bike_id": p.bike_id, "outside_since": None, "case_no": None}
                state.update(lon=p.lon, lat=p.lat, seen_at=p.at, zone_id=zone_ids[zone] if zone >= 0 else None)
                if zone >= 0:
                    inside += 1
                    state["outside_since"], state["case_no"] = None, None
                else:
                    state["outside_since"] = state["outside_since"] or p.at
                    if state["case_no"] is None and p.at - state["outside_since"] >= grace:
                        state["case_no"] = "pending"
                        overdue.append((p, state["outside_since"]))
                current[p.bike_id] = state
            states_out += current.values()
            day = (positions[indexes[-1]].at + CHINA).date()
            uow.sensing.add_compliance(operator, day, taken, inside, 0)
            report.inside += inside
        uow.sensing.put_bike_states(states_out)
        uow.commit()
    for p, since in overdue:
        try:
            case_no = _open_case(p, since, operators[p.operator], uow, clock, handle, locate)
        except DomainError as exc:
            report.case_errors.append(f"{p.operator}/{p.bike_id} [{exc.code}] {exc.message}")
            continue
        report.cases.append(case_no)
        with uow:
            uow.sensing.put_bike_states([
                {"operator": p.operator, "bike_id": p.bike_id, "lon": p.lon, "lat": p.lat, "seen_at": p.at,
                 "zone_id": None, "outside_since": since, "case_no": case_no}
            ])  # fmt: skip
            uow.sensing.add_compliance(p.operator, (p.at + CHINA).date(), 0, 0, 1)
            uow.commit()
    return report


def _open_case(
    p: Position,
    since: datetime,
    operator: Any,
    uow: SensingUnitOfWork,
    clock: Clock,
    handle: Handle,
    locate: Locate,
) -> str:
    place = locate(p.lon, p.lat)
    if not (place.street_code and place.community_code):
        raise InvalidInputError("bikes.unlocated", f"坐标（{p.lon}, {p.lat}）不在任何社区内")
    minutes = int((p.at - since).total_seconds() // 60)
    reported: Reported = handle(
        ReportCase(
            actor=SYSTEM_ACTOR,
            source=Source.SENSOR,
            kind=ClassKind.MATTER,
            class_code=DISORDER_CLASS,
            location=Location(
                p.lon,
                p.lat,
                f"{operator.name} 车辆 {p.bike_id}",
                place.district_code,
                place.street_code,
                place.community_code,
                place.grid_code,
                place.area_class,
            ),
            description=f"{operator.name}共享单车 {p.bike_id} 停放在停放区外已 {minutes} 分钟，请运营企业（账号 "
            f"{operator.account}）清理",
            reporter=operator.account,
            idempotency_key=f"bike:{p.operator}:{p.bike_id}:{int(since.timestamp())}"[:64],
        ),
        clock=clock,
    )
    return reported.case_no


@dataclass(frozen=True, slots=True)
class Compliance:
    operator: str
    name: str
    reports: int
    inside: int
    cases: int

    @property
    def rate(self) -> float | None:
        """Share of reports inside a permitted zone (None without reports)."""
        return self.inside / self.reports if self.reports else None


def compliance(uow: SensingUnitOfWork, since_day: Any = None) -> list[Compliance]:
    with uow:
        names = {code: r.name for code, r in uow.sensing.bike_operators().items()}
        rows = uow.sensing.compliance(since_day)
    return [Compliance(op, names.get(op, op), reports, inside, cases) for op, reports, inside, cases in rows]


def occupancy_layer(uow: SensingUnitOfWork, now: datetime, fresh_minutes: int = 60) -> dict[str, Any]:
    """The parking zones as GeoJSON with how many bikes were seen in each within ``fresh_minutes``."""
    with uow:
        zones = uow.components.find(ComponentFilter(class_code=ZONE_CLASS, limit=None))
        counts = uow.sensing.zone_counts(now - timedelta(minutes=fresh_minutes))
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(z.geometry),
                "properties": {"id": z.id, "name": z.name, "bikes": counts.get(z.id, 0)},
            }
            for z in zones
        ],
    }
