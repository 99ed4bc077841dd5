"""In-memory store of sensing, for service tests: the sensing.ports.SensingStore Protocol over plain containers
a unit of work can copy and restore. It keeps what the SQL store promises: a device keeps its id across
updates and its newest reading only moves forward, a redelivered reading or feed event is stored once, the
product's rules never overwrite a city's, times come back in UTC and readings with their three value slots.

Where the SQL store returns database rows (dead letters, bike operators and states), this one returns named
tuples with the same fields, read the same way (``x.reason``, ``r.grace_minutes``)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, NamedTuple

from xiuhua.cases.domain.workflow import State
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db.types import as_stored, as_stored_or_none
from xiuhua.sensing.domain.model import Device, Episode, Phase, Reading, Rule, TruckPermit

CaseState = Callable[[str], State | None]
"""The state of a case by its number (None: no such case): what the SQL store reads by joining the cases."""


class DeadLetter(NamedTuple):
    id: int
    received_at: datetime
    topic: str
    device_code: str | None
    reason: str
    message: str
    payload: str


class BikeOperator(NamedTuple):
    code: str
    name: str
    account: str
    grace_minutes: int


class BikeState(NamedTuple):
    operator: str
    bike_id: str
    lon: float
    lat: float
    seen_at: datetime
    zone_id: str | None
    outside_since: datetime | None
    case_no: str | None


def _float_or_none(value: float | None) -> float | None:
    return None if value is None else float(value)


def _no_cases(case_no: str) -> State | None:
    return None


class FakeSensingStore:
    """``case_state`` is how the store sees the cases (the SQL store joins their table); give it a plain function
    (a closure over the unit of work's case repository), which the unit of work's snapshots keep as it is."""

    def __init__(self, case_state: CaseState = _no_cases) -> None:
        self.case_state = case_state
        self.device_rows: dict[str, Device] = {}
        """Code → the stored device (with its id and newest evaluated reading)."""
        self.reading_rows: dict[tuple[int, datetime], Reading] = {}
        self.rule_rows: dict[str, Rule] = {}
        self.episode_rows: dict[int, Episode] = {}
        """Id → the stored episode (its evidence as JSON gives it back)."""
        self.evidence_sha256: dict[int, str] = {}
        self.dead: list[DeadLetter] = []
        self.mappings: dict[tuple[str, str], tuple[ClassKind, str, bool]] = {}
        self.feed_events: dict[tuple[str, str], tuple[datetime, str | None]] = {}
        self.operators: dict[str, BikeOperator] = {}
        self.states: dict[tuple[str, str], BikeState] = {}
        self.compliance_rows: dict[tuple[str, date], tuple[int, int, int]] = {}
        self.next_id = {"device": 0, "episode": 0, "dead_letter": 0}
        """The last id given out (ids are never reused, as PostgreSQL's sequences)."""

    def _new_id(self, what: str) -> int:
        self.next_id[what] += 1
        return self.next_id[what]

    # ----- devices ---------------------------------------------------------------------------------
    def upsert_devices(self, devices: Sequence[Device], at: datetime) -> None:
        as_stored(at)
        for d in devices:
            kept = self.device_rows.get(d.code)
            device_id = kept.id if kept is not None else self._new_id("device")
            last = kept.last_reading_at if kept is not None else None
            permit = TruckPermit.parse(d.permit.to_json()) if d.permit else None  # kept as JSON text in SQL
            self.device_rows[d.code] = replace(
                d, lon=float(d.lon), lat=float(d.lat), permit=permit, id=device_id, last_reading_at=last
            )

    def devices_by_code(self, codes: Iterable[str]) -> dict[str, Device]:
        return {code: self.device_rows[code] for code in sorted(set(codes)) if code in self.device_rows}

    def device_by_id(self, device_id: int) -> Device | None:
        return next((d for d in self.device_rows.values() if d.id == device_id), None)

    def devices(self, kind: str | None = None, limit: int | None = None) -> list[Device]:
        found = [self.device_rows[code] for code in sorted(self.device_rows)]
        if kind:
            found = [d for d in found if d.kind == kind]
        return found[:limit] if limit else found

    def touch_devices(self, last: dict[int, datetime]) -> None:
        """Remember each device's newest evaluated reading (only ever moves forward)."""
        by_id = {d.id: d for d in self.device_rows.values()}
        for device_id, moment in last.items():
            d = by_id.get(device_id)
            if d is not None and (d.last_reading_at is None or d.last_reading_at < moment):
                self.device_rows[d.code] = replace(d, last_reading_at=as_stored(moment))

    # ----- readings --------------------------------------------------------------------------------
    def add_readings(self, readings: Sequence[Reading]) -> None:
        """Store readings; one already stored (a redelivered message) is left as it is."""
        for r in readings:
            at = as_stored(r.measured_at)
            slots = tuple(_float_or_none(v) for v in (*r.values[:3], None, None, None)[:3])
            self.reading_rows.setdefault((r.device_id, at), Reading(r.device_id, at, slots, r.alarm))

    def readings(self, device_id: int, limit: int = 100) -> list[Reading]:
        found = sorted((r for r in self.reading_rows.values() if r.device_id == device_id), key=lambda r: r.measured_at)
        return found[::-1][: max(limit, 0)]

    def count_readings(self) -> int:
        return len(self.reading_rows)

    # ----- rules -----------------------------------------------------------------------------------
    def rules(self) -> list[Rule]:
        return [self.rule_rows[rule_id] for rule_id in sorted(self.rule_rows)]

    def upsert_rules(self, rules: Sequence[Rule], at: datetime) -> None:
        as_stored(at)
        for r in rules:
            self.rule_rows[r.id] = replace(r, threshold=_float_or_none(r.threshold))

    def add_missing_rules(self, rules: Sequence[Rule], at: datetime) -> None:
        """Seed the product's rules without touching ones a city has edited."""
        as_stored(at)
        for r in rules:
            self.rule_rows.setdefault(r.id, replace(r, threshold=_float_or_none(r.threshold)))

    # ----- alarm episodes --------------------------------------------------------------------------
    @staticmethod
    def _stored(episode: Episode, episode_id: int) -> Episode:
        evidence = json.loads(json.dumps(episode.evidence(), ensure_ascii=False))  # kept as JSON text in SQL
        return replace(
            episode,
            id=episode_id,
            started_at=as_stored(episode.started_at),
            last_at=as_stored(episode.last_at),
            raised_at=as_stored_or_none(episode.raised_at),
            clear_since=as_stored_or_none(episode.clear_since),
            recovered_at=as_stored_or_none(episode.recovered_at),
            peak=_float_or_none(episode.peak),
            trigger=evidence.get("trigger", []),
            recent=evidence.get("recent", []),
        )

    def _read(self, episodes: Iterable[Episode]) -> list[Episode]:
        return [copy.deepcopy(e) for e in episodes]

    def open_episodes(self, device_ids: Iterable[int]) -> list[Episode]:
        ids = set(device_ids)
        return self._read(
            e for e in self.episode_rows.values() if e.device_id in ids and e.phase is not Phase.RECOVERED
        )

    def episodes(self, device_id: int | None = None, limit: int = 100) -> list[Episode]:
        found = [self.episode_rows[i] for i in sorted(self.episode_rows, reverse=True)]
        if device_id is not None:
            found = [e for e in found if e.device_id == device_id]
        return self._read(found[: max(limit, 0)])

    def add_episode(self, episode: Episode) -> int:
        new_id = self._new_id("episode")
        self.episode_rows[new_id] = self._stored(episode, new_id)
        episode.id = new_id
        return new_id

    def save_episodes(self, episodes: Sequence[Episode]) -> None:
        for e in episodes:
            if e.id is not None and e.id in self.episode_rows:
                self.episode_rows[e.id] = self._stored(e, e.id)

    def delete_episodes(self, ids: Sequence[int]) -> None:
        for i in ids:
            self.episode_rows.pop(i, None)
            self.evidence_sha256.pop(i, None)

    def episodes_awaiting_case(self) -> list[Episode]:
        """Raised alarms whose case is not yet recorded (opening it failed or was interrupted)."""
        return self._read(
            self.episode_rows[i]
            for i in sorted(self.episode_rows)
            if self.episode_rows[i].raised_at is not None and self.episode_rows[i].case_no is None
        )

    def open_case_of(self, device_id: int, rule_id: str) -> str | None:
        """The case of this device's latest alarm under the rule, if that case is still open."""
        for i in sorted(self.episode_rows, reverse=True):
            e = self.episode_rows[i]
            if e.device_id != device_id or e.rule_id != rule_id or e.case_no is None:
                continue
            state = self.case_state(e.case_no)
            if state is not None and state not in (State.CLOSED, State.VOIDED):
                return e.case_no
        return None

    def set_case(self, episode_id: int, case_no: str, evidence_sha256: str) -> None:
        if episode_id in self.episode_rows:
            self.episode_rows[episode_id].case_no = case_no
            self.evidence_sha256[episode_id] = evidence_sha256

    # ----- dead letters ----------------------------------------------------------------------------
    def add_dead_letters(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.dead.append(
                DeadLetter(
                    self._new_id("dead_letter"), as_stored(r["received_at"]), r["topic"], r.get("device_code"),
                    r["reason"], r["message"], r["payload"],
                )
            )  # fmt: skip

    def dead_letters(self, reason: str | None = None, limit: int = 100) -> list[Any]:
        found = [x for x in reversed(self.dead) if not reason or x.reason == reason]
        return found[: max(limit, 0)]

    def dead_letter_counts(self) -> dict[str, int]:
        return dict(Counter(x.reason for x in self.dead))

    # ----- business feeds --------------------------------------------------------------------------
    def feed_mappings(self) -> dict[tuple[str, str], tuple[ClassKind, str, bool]]:
        return dict(self.mappings)

    def upsert_feed_mappings(self, rows: Sequence[dict[str, Any]], only_missing: bool = False) -> None:
        for r in rows:
            key = (r["source"], r["event_type"])
            if only_missing and key in self.mappings:
                continue
            self.mappings[key] = (ClassKind(r["class_kind"]), r["class_code"], bool(r["urgent"]))

    def feed_cases(self, source: str, event_ids: Sequence[str]) -> dict[str, str | None]:
        return {e: self.feed_events[(source, e)][1] for e in event_ids if (source, e) in self.feed_events}

    def add_feed_event(self, source: str, event_id: str, at: datetime, case_no: str) -> None:
        self.feed_events.setdefault((source, event_id), (as_stored(at), case_no))

    # ----- shared bikes ----------------------------------------------------------------------------
    def upsert_bike_operators(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            kept = self.operators.get(r["code"])
            fields = {**kept._asdict(), **r} if kept is not None else r
            self.operators[r["code"]] = BikeOperator(**fields)

    def bike_operators(self) -> dict[str, Any]:
        return {code: self.operators[code] for code in sorted(self.operators)}

    def bike_states(self, operator: str, bike_ids: Sequence[str]) -> dict[str, Any]:
        return {b: self.states[(operator, b)] for b in bike_ids if (operator, b) in self.states}

    def put_bike_states(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            key = (r["operator"], r["bike_id"])
            kept = self.states.get(key)
            fields = {**kept._asdict(), **r} if kept is not None else {"zone_id": None, "outside_since": None,
                                                                        "case_no": None, **r}  # fmt: skip
            fields["seen_at"] = as_stored(fields["seen_at"])
            fields["outside_since"] = as_stored_or_none(fields["outside_since"])
            fields["lon"], fields["lat"] = float(fields["lon"]), float(fields["lat"])
            self.states[key] = BikeState(**fields)

    def zone_counts(self, since: datetime) -> dict[str, int]:
        return dict(Counter(s.zone_id for s in self.states.values() if s.zone_id is not None and s.seen_at >= since))

    def add_compliance(self, operator: str, day: date, reports: int, inside: int, cases: int) -> None:
        r, i, c = self.compliance_rows.get((operator, day), (0, 0, 0))
        self.compliance_rows[(operator, day)] = (r + reports, i + inside, c + cases)

    def compliance(self, since: date | None = None) -> list[tuple[str, int, int, int]]:
        totals: dict[str, tuple[int, int, int]] = {}
        for (operator, day), (r, i, c) in self.compliance_rows.items():
            if since is None or day >= since:
                tr, ti, tc = totals.get(operator, (0, 0, 0))
                totals[operator] = (tr + r, ti + i, tc + c)
        return [(op, *totals[op]) for op in sorted(totals)]
