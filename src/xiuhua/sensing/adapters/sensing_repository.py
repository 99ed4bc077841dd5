"""Storage of sensing: devices, readings (one narrow row per message), rules, alarm episodes, dead letters,
business-feed mappings and events, shared-bike states."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from xiuhua.cases.domain.workflow import State
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert
from xiuhua.sensing.domain.model import Device, Episode, Phase, Reading, Rule, RuleType, TruckPermit

_CHUNK = 500
_FINAL = (State.CLOSED.value, State.VOIDED.value)


def _device_row(d: Device, at: datetime) -> dict[str, Any]:
    return {
        "code": d.code,
        "kind": d.kind,
        "name": d.name,
        "lon": d.lon,
        "lat": d.lat,
        "address": d.address,
        "district_code": d.district_code,
        "street_code": d.street_code,
        "community_code": d.community_code,
        "grid_code": d.grid_code,
        "area_class": d.area_class,
        "component_id": d.component_id,
        "department_code": d.department_code,
        "permit": d.permit.to_json() if d.permit else None,
        "active": d.active,
        "updated_at": at,
    }


def _device(r: Any) -> Device:
    return Device(
        code=r.code,
        kind=r.kind,
        name=r.name,
        lon=r.lon,
        lat=r.lat,
        address=r.address,
        district_code=r.district_code,
        street_code=r.street_code,
        community_code=r.community_code,
        department_code=r.department_code,
        grid_code=r.grid_code,
        area_class=r.area_class,
        component_id=r.component_id,
        permit=TruckPermit.parse(r.permit),
        active=r.active,
        id=r.id,
        last_reading_at=r.last_reading_at,
    )


def _rule_row(r: Rule, at: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "type": r.type.value,
        "field": r.field,
        "op": r.op,
        "threshold": r.threshold,
        "duration_minutes": r.duration_minutes,
        "clear_minutes": r.clear_minutes,
        "class_kind": r.class_kind.value,
        "class_code": r.class_code,
        "label": r.label,
        "urgent": r.urgent,
        "use_component_class": r.use_component_class,
        "enabled": r.enabled,
        "updated_at": at,
    }


def _episode_row(e: Episode) -> dict[str, Any]:
    return {
        "device_id": e.device_id,
        "rule_id": e.rule_id,
        "phase": e.phase.value,
        "started_at": e.started_at,
        "last_at": e.last_at,
        "raised_at": e.raised_at,
        "clear_since": e.clear_since,
        "recovered_at": e.recovered_at,
        "breaches": e.breaches,
        "flaps": e.flaps,
        "peak": e.peak,
        "case_no": e.case_no,
        "evidence": json.dumps(e.evidence(), ensure_ascii=False, separators=(",", ":")),
    }


def _episode(r: Any) -> Episode:
    evidence = json.loads(r.evidence)
    return Episode(
        device_id=r.device_id,
        rule_id=r.rule_id,
        phase=Phase(r.phase),
        started_at=r.started_at,
        last_at=r.last_at,
        id=r.id,
        raised_at=r.raised_at,
        clear_since=r.clear_since,
        recovered_at=r.recovered_at,
        breaches=r.breaches,
        flaps=r.flaps,
        peak=r.peak,
        case_no=r.case_no,
        trigger=evidence.get("trigger", []),
        recent=evidence.get("recent", []),
    )


class SensingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self) -> Any:
        return postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert

    # ----- devices ---------------------------------------------------------------------------------
    def upsert_devices(self, devices: Sequence[Device], at: datetime) -> None:
        upsert(self.conn, t.sensing_devices, [_device_row(d, at) for d in devices], ["code"])

    def devices_by_code(self, codes: Iterable[str]) -> dict[str, Device]:
        wanted = sorted(set(codes))
        found: dict[str, Device] = {}
        for i in range(0, len(wanted), _CHUNK):
            stmt = select(t.sensing_devices).where(t.sensing_devices.c.code.in_(wanted[i : i + _CHUNK]))
            found.update({r.code: _device(r) for r in self.conn.execute(stmt)})
        return found

    def device_by_id(self, device_id: int) -> Device | None:
        r = self.conn.execute(select(t.sensing_devices).where(t.sensing_devices.c.id == device_id)).first()
        return _device(r) if r else None

    def devices(self, kind: str | None = None, limit: int | None = None) -> list[Device]:
        stmt = select(t.sensing_devices).order_by(t.sensing_devices.c.code)
        if kind:
            stmt = stmt.where(t.sensing_devices.c.kind == kind)
        if limit:
            stmt = stmt.limit(limit)
        return [_device(r) for r in self.conn.execute(stmt)]

    def touch_devices(self, last: dict[int, datetime]) -> None:
        """Remember each device's newest evaluated reading (only ever moves forward)."""
        if not last:
            return
        d = t.sensing_devices
        stmt = (
            update(d)
            .where(d.c.id == bindparam("b_id"))
            .where((d.c.last_reading_at.is_(None)) | (d.c.last_reading_at < bindparam("b_at")))
            .values(last_reading_at=bindparam("b_at"))
        )
        self.conn.execute(stmt, [{"b_id": k, "b_at": v} for k, v in last.items()])

    # ----- readings --------------------------------------------------------------------------------
    def add_readings(self, readings: Sequence[Reading]) -> None:
        """Store readings; one already stored (a redelivered message) is left as it is."""
        rows = [
            {
                "device_id": r.device_id,
                "measured_at": r.measured_at,
                "v0": r.values[0] if r.values else None,
                "v1": r.values[1] if len(r.values) > 1 else None,
                "v2": r.values[2] if len(r.values) > 2 else None,
                "alarm": r.alarm,
            }
            for r in readings
        ]
        insert_ = self._insert()
        for i in range(0, len(rows), _CHUNK):
            stmt = insert_(t.sensing_readings).values(rows[i : i + _CHUNK])
            self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["device_id", "measured_at"]))

    def readings(self, device_id: int, limit: int = 100) -> list[Reading]:
        r = t.sensing_readings
        stmt = select(r).where(r.c.device_id == device_id).order_by(r.c.measured_at.desc()).limit(limit)
        return [
            Reading(x.device_id, x.measured_at, tuple(v for v in (x.v0, x.v1, x.v2)), x.alarm)
            for x in self.conn.execute(stmt)
        ]

    def count_readings(self) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(t.sensing_readings)) or 0)

    # ----- rules -----------------------------------------------------------------------------------
    def rules(self) -> list[Rule]:
        result = self.conn.execute(select(t.sensing_rules).order_by(t.sensing_rules.c.id))
        return [
            Rule(
                id=r.id,
                kind=r.kind,
                type=RuleType(r.type),
                class_kind=ClassKind(r.class_kind),
                class_code=r.class_code,
                label=r.label,
                field=r.field,
                op=r.op,
                threshold=r.threshold,
                duration_minutes=r.duration_minutes,
                clear_minutes=r.clear_minutes,
                urgent=r.urgent,
                use_component_class=r.use_component_class,
                enabled=r.enabled,
            )
            for r in result
        ]

    def upsert_rules(self, rules: Sequence[Rule], at: datetime) -> None:
        upsert(self.conn, t.sensing_rules, [_rule_row(r, at) for r in rules], ["id"])

    def add_missing_rules(self, rules: Sequence[Rule], at: datetime) -> None:
        """Seed the product's rules without touching ones a city has edited."""
        rows = [_rule_row(r, at) for r in rules]
        if rows:
            self.conn.execute(
                self._insert()(t.sensing_rules).values(rows).on_conflict_do_nothing(index_elements=["id"])
            )

    # ----- alarm episodes --------------------------------------------------------------------------
    def open_episodes(self, device_ids: Iterable[int]) -> list[Episode]:
        ids = sorted(set(device_ids))
        a = t.sensing_alarms
        found: list[Episode] = []
        for i in range(0, len(ids), _CHUNK):
            stmt = select(a).where(a.c.device_id.in_(ids[i : i + _CHUNK]), a.c.phase != Phase.RECOVERED.value)
            found += [_episode(r) for r in self.conn.execute(stmt)]
        return found

    def episodes(self, device_id: int | None = None, limit: int = 100) -> list[Episode]:
        a = t.sensing_alarms
        stmt = select(a).order_by(a.c.id.desc()).limit(limit)
        if device_id is not None:
            stmt = stmt.where(a.c.device_id == device_id)
        return [_episode(r) for r in self.conn.execute(stmt)]

    def add_episode(self, episode: Episode) -> int:
        new_id = self.conn.execute(insert(t.sensing_alarms).values(_episode_row(episode))).inserted_primary_key
        assert new_id is not None
        episode.id = int(new_id[0])
        return episode.id

    def save_episodes(self, episodes: Sequence[Episode]) -> None:
        if not episodes:
            return
        a = t.sensing_alarms
        rows = [{"b_id": e.id, **{f"b_{k}": v for k, v in _episode_row(e).items()}} for e in episodes]
        values: dict[str, Any] = {k[2:]: bindparam(k) for k in rows[0] if k != "b_id"}
        self.conn.execute(update(a).where(a.c.id == bindparam("b_id")).values(values), rows)

    def delete_episodes(self, ids: Sequence[int]) -> None:
        if ids:
            self.conn.execute(delete(t.sensing_alarms).where(t.sensing_alarms.c.id.in_(list(ids))))

    def episodes_awaiting_case(self) -> list[Episode]:
        """Raised alarms whose case is not yet recorded (opening it failed or was interrupted)."""
        a = t.sensing_alarms
        stmt = select(a).where(a.c.raised_at.is_not(None), a.c.case_no.is_(None)).order_by(a.c.id)
        return [_episode(r) for r in self.conn.execute(stmt)]

    def open_case_of(self, device_id: int, rule_id: str) -> str | None:
        """The case of this device's latest alarm under the rule, if that case is still open."""
        a, c = t.sensing_alarms, t.cases
        stmt = (
            select(a.c.case_no)
            .join(c, c.c.case_no == a.c.case_no)
            .where(a.c.device_id == device_id, a.c.rule_id == rule_id, c.c.state.not_in(_FINAL))
            .order_by(a.c.id.desc())
            .limit(1)
        )
        return self.conn.scalar(stmt)

    def set_case(self, episode_id: int, case_no: str, evidence_sha256: str) -> None:
        a = t.sensing_alarms
        self.conn.execute(
            update(a).where(a.c.id == episode_id).values(case_no=case_no, evidence_sha256=evidence_sha256)
        )

    # ----- dead letters ----------------------------------------------------------------------------
    def add_dead_letters(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(t.sensing_dead_letters), list(rows))

    def dead_letters(self, reason: str | None = None, limit: int = 100) -> list[Any]:
        d = t.sensing_dead_letters
        stmt = select(d).order_by(d.c.id.desc()).limit(limit)
        if reason:
            stmt = stmt.where(d.c.reason == reason)
        return list(self.conn.execute(stmt))

    def dead_letter_counts(self) -> dict[str, int]:
        d = t.sensing_dead_letters
        return {r: n for r, n in self.conn.execute(select(d.c.reason, func.count()).group_by(d.c.reason))}

    # ----- business feeds --------------------------------------------------------------------------
    def feed_mappings(self) -> dict[tuple[str, str], tuple[ClassKind, str, bool]]:
        result = self.conn.execute(select(t.feed_mappings))
        return {(r.source, r.event_type): (ClassKind(r.class_kind), r.class_code, r.urgent) for r in result}

    def upsert_feed_mappings(self, rows: Sequence[dict[str, Any]], only_missing: bool = False) -> None:
        if not rows:
            return
        if only_missing:
            stmt = self._insert()(t.feed_mappings).values(list(rows))
            self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "event_type"]))
            return
        upsert(self.conn, t.feed_mappings, rows, ["source", "event_type"])

    def feed_cases(self, source: str, event_ids: Sequence[str]) -> dict[str, str | None]:
        f = t.feed_events
        found: dict[str, str | None] = {}
        for i in range(0, len(event_ids), _CHUNK):
            stmt = select(f.c.event_id, f.c.case_no).where(
                f.c.source == source, f.c.event_id.in_(list(event_ids[i : i + _CHUNK]))
            )
            found.update({e: c for e, c in self.conn.execute(stmt)})
        return found

    def add_feed_event(self, source: str, event_id: str, at: datetime, case_no: str) -> None:
        stmt = self._insert()(t.feed_events).values(source=source, event_id=event_id, received_at=at, case_no=case_no)
        self.conn.execute(stmt.on_conflict_do_nothing(index_elements=["source", "event_id"]))

    # ----- shared bikes ----------------------------------------------------------------------------
    def upsert_bike_operators(self, rows: Sequence[dict[str, Any]]) -> None:
        upsert(self.conn, t.bike_operators, rows, ["code"])

    def bike_operators(self) -> dict[str, Any]:
        return {r.code: r for r in self.conn.execute(select(t.bike_operators).order_by(t.bike_operators.c.code))}

    def bike_states(self, operator: str, bike_ids: Sequence[str]) -> dict[str, Any]:
        b = t.bike_states
        found: dict[str, Any] = {}
        for i in range(0, len(bike_ids), _CHUNK):
            stmt = select(b).where(b.c.operator == operator, b.c.bike_id.in_(list(bike_ids[i : i + _CHUNK])))
            found.update({r.bike_id: r for r in self.conn.execute(stmt)})
        return found

    def put_bike_states(self, rows: Sequence[dict[str, Any]]) -> None:
        upsert(self.conn, t.bike_states, rows, ["operator", "bike_id"])

    def zone_counts(self, since: datetime) -> dict[str, int]:
        b = t.bike_states
        stmt = (
            select(b.c.zone_id, func.count())
            .where(b.c.zone_id.is_not(None), b.c.seen_at >= since)
            .group_by(b.c.zone_id)
        )
        return {zone: n for zone, n in self.conn.execute(stmt)}

    def add_compliance(self, operator: str, day: date, reports: int, inside: int, cases: int) -> None:
        c = t.bike_compliance
        stmt = self._insert()(c).values(operator=operator, day=day, reports=reports, inside=inside, cases=cases)
        stmt = stmt.on_conflict_do_update(
            index_elements=["operator", "day"],
            set_={
                "reports": c.c.reports + stmt.excluded.reports,
                "inside": c.c.inside + stmt.excluded.inside,
                "cases": c.c.cases + stmt.excluded.cases,
            },
        )
        self.conn.execute(stmt)

    def compliance(self, since: date | None = None) -> list[tuple[str, int, int, int]]:
        c = t.bike_compliance
        stmt = (
            select(c.c.operator, func.sum(c.c.reports), func.sum(c.c.inside), func.sum(c.c.cases))
            .group_by(c.c.operator)
            .order_by(c.c.operator)
        )
        if since is not None:
            stmt = stmt.where(c.c.day >= since)
        return [(op, int(r or 0), int(i or 0), int(k or 0)) for op, r, i, k in self.conn.execute(stmt)]
