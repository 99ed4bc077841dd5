"""Sensing on SQLite and PostgreSQL without a broker: devices, validation and dead letters, readings, rules
to cases with de-duplication, flap damping and recovery, rule edits applied at the next batch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import Point

from tests.unit.test_components import make_component
from xiuhua.bootstrap import messagebus
from xiuhua.cases.domain.workflow import Source, State
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform import packagedata
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row
from xiuhua.sensing.domain.model import Phase
from xiuhua.sensing.services import ingest as sensing
from xiuhua.sensing.services.ingest import IngestReport, Message
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Kaifeng
WATER = "91410204BHJ5Q4X12M"
SANITATION = "1241020210Q85UHF2K"
PLACE = {"district_code": "410202", "street_code": "410202001", "community_code": "410202001009"}


@dataclass
class Sensing:
    uow: SqlUnitOfWork
    clock: FakeClock
    handle: Handle

    def devices(self, *rows: dict[str, str]) -> None:
        table = [Row(i + 2, {**PLACE, "department_code": SANITATION, **r}) for i, r in enumerate(rows)]
        sensing.import_devices(table, self.uow, self.clock)

    def send(
        self, *messages: dict[str, Any] | bytes, topic: str = "xiuhua/sensors/x", advance: bool = True
    ) -> IngestReport:
        """Ingest a batch as it arrives: the clock stands at the newest reading (unless already later)."""
        stamps = [datetime.fromisoformat(m["ts"]) for m in messages if isinstance(m, dict) and "T" in m["ts"]]
        if advance:
            self.clock.set(max([self.clock.now(), *stamps]))
        batch = [Message(topic, m if isinstance(m, bytes) else json.dumps(m).encode("utf-8")) for m in messages]
        return sensing.ingest_messages(batch, self.uow, self.clock, self.handle)

    def case(self, case_no: str) -> Any:
        with self.uow:
            return self.uow.cases.get(case_no)

    def episodes(self, code: str) -> list[Any]:
        return sensing.show_device(self.uow, code).episodes


@pytest.fixture
def city(uow: SqlUnitOfWork) -> Sensing:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    clock = FakeClock(T0)
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"), packagedata.read("sensing/feed_mappings_default.csv"), uow, clock
    )
    return Sensing(uow, clock, messagebus(uow, clock, load_policy(uow, holidays.statutory_days)).handle)


def reading(device: str, at: datetime, alarm: bool = False, **values: float) -> dict[str, Any]:
    return {"device": device, "ts": at.isoformat(), "values": values, "alarm": alarm}


def test_any_alarm_opens_one_sensor_case_with_its_readings_as_evidence(city: Sensing) -> None:
    component = make_component(id="41020201001000123", geometry=Point(114.3455, 34.807), lon=114.3455, lat=34.807)
    with city.uow:
        city.uow.components.add([component], T0, "clerk")
        city.uow.commit()
    city.devices({"code": "MH-1", "kind": "manhole", "name": "龙亭路井盖传感器", "lon": "114.3455", "lat": "34.807",
                  "component_id": component.id, "department_code": ""})  # fmt: skip
    first = city.send(reading("MH-1", T0 - timedelta(minutes=1), tilt_deg=2.0))
    assert first.stored == 1 and first.cases == []
    report = city.send(reading("MH-1", T0, alarm=True, tilt_deg=35.0, displacement_mm=40))
    assert len(report.cases) == 1 and report.cases[0].created
    case = city.case(report.cases[0].case_no)
    assert case.source is Source.SENSOR and case.state is State.REPORTED
    assert (case.kind, case.class_code) == (ClassKind.COMPONENT, "01001")  # the bound component's own class
    assert case.component_id == component.id and case.urgency.value == "urgent"
    assert case.location.community_code == PLACE["community_code"]
    assert "MH-1" in case.description and "sha256:" in case.description
    detail = sensing.show_device(city.uow, "MH-1")
    assert detail.device.department_code == component.department_code  # taken from the component
    (episode,) = detail.episodes
    assert episode.case_no == case.case_no and episode.phase is Phase.ACTIVE
    assert episode.trigger == [{"at": "2026-03-03T01:00:00Z", "tilt_deg": 35.0, "displacement_mm": 40.0, "alarm": True}]
    # it keeps alarming: the open case is updated, no second case
    again = city.send(*(reading("MH-1", T0 + timedelta(minutes=m), alarm=True, tilt_deg=36.0) for m in (1, 2, 3)))
    assert again.cases == [] and again.updated == 3
    (episode,) = city.episodes("MH-1")
    assert episode.breaches == 4 and len(episode.recent) == 4


def test_threshold_must_hold_for_its_duration(city: Sensing) -> None:
    city.devices({"code": "DUST-1", "kind": "dust", "name": "工地扬尘 1", "lon": "114.35", "lat": "34.80"})
    early = city.send(*(reading("DUST-1", T0 + timedelta(minutes=m), pm10=180.0) for m in range(0, 30, 5)))
    assert early.cases == [] and city.episodes("DUST-1")[0].phase is Phase.PENDING
    # a dip below the threshold resets the clock: a pending condition is discarded
    city.send(reading("DUST-1", T0 + timedelta(minutes=29), pm10=120.0))
    assert city.episodes("DUST-1") == []
    start = T0 + timedelta(minutes=31)
    late = city.send(*(reading("DUST-1", start + timedelta(minutes=m), pm10=160.0 + m) for m in range(0, 31, 5)))
    assert [(c.rule_id, c.measured_at) for c in late.cases] == [("dust-pm10", start + timedelta(minutes=30))]
    case = city.case(late.cases[0].case_no)
    assert (case.kind, case.class_code) == (ClassKind.MATTER, "08004")
    assert city.episodes("DUST-1")[0].peak == 190.0


def test_flapping_is_damped_and_recovery_is_recorded(city: Sensing) -> None:
    city.devices({"code": "BIN-1", "kind": "bin", "name": "垃圾箱 1", "lon": "114.35", "lat": "34.80"})
    t = T0

    def at(minutes: int, fill: float) -> dict[str, Any]:
        return reading("BIN-1", t + timedelta(minutes=minutes), fill_pct=fill)

    opened = city.send(at(0, 95), at(10, 96))
    assert len(opened.cases) == 1
    # clears and returns within the 60-minute observation: same episode, no new case
    flap = city.send(at(20, 40), at(30, 97), at(40, 30), at(50, 95))
    assert flap.cases == []
    (episode,) = city.episodes("BIN-1")
    assert episode.flaps == 2 and episode.phase is Phase.ACTIVE
    # clear for an hour: recovered, with the recovery readings kept
    recovered = city.send(at(60, 20), at(90, 10), at(121, 5))
    assert recovered.recovered == 1
    (episode,) = city.episodes("BIN-1")
    assert episode.phase is Phase.RECOVERED and episode.recovered_at == t + timedelta(minutes=60)
    assert episode.recent[-1]["fill_pct"] == 5.0
    # full again while the first case is still open: the alarm rejoins that case
    rejoined = city.send(at(200, 99), at(210, 99))
    assert [(c.case_no, c.created) for c in rejoined.cases] == [(opened.cases[0].case_no, False)]
    assert len(city.episodes("BIN-1")) == 2


def test_bad_messages_are_dead_lettered_with_their_reason_and_good_ones_stored(city: Sensing) -> None:
    city.devices({"code": "FUME-1", "kind": "fume", "name": "餐馆油烟 1", "lon": "114.35", "lat": "34.80"},
                 {"code": "FUME-2", "kind": "fume", "name": "餐馆油烟 2", "lon": "114.35", "lat": "34.80",
                  "active": "0"})  # fmt: skip
    report = city.send(
        b"{not json",
        b"\xff\xfe",
        reading("NOPE-1", T0, fume_mg_m3=1.0),
        reading("FUME-2", T0, fume_mg_m3=1.0),
        reading("FUME-1", T0, fume_mg_m3=500.0),
        reading("FUME-1", T0 - timedelta(days=2), fume_mg_m3=1.0),
        reading("FUME-1", T0 + timedelta(hours=1), fume_mg_m3=1.0),
        reading("FUME-1", T0),
        {"device": "FUME-1", "ts": "yesterday", "values": {}},
        {"device": "FUME-1", "ts": T0.isoformat(), "values": {"fume_mg_m3": "high"}},
        reading("FUME-1", T0, fume_mg_m3=1.5),
        advance=False,
    )
    assert report.received == 11 and report.stored == 1
    assert report.rejected == {
        "malformed": 4, "unknown_device": 1, "inactive_device": 1, "out_of_range": 1, "stale": 1, "future": 1,
        "missing_field": 1,
    }  # fmt: skip
    letters, counts = sensing.list_dead_letters(city.uow)
    assert sum(counts.values()) == 10 and len(letters) == 10
    binary = next(x for x in letters if x.payload.startswith("hex:"))
    assert binary.payload == "hex:fffe" and binary.reason == "malformed"
    assert {x.device_code for x in letters if x.reason == "out_of_range"} == {"FUME-1"}
    only_stale, _ = sensing.list_dead_letters(city.uow, "stale")
    assert len(only_stale) == 1
    with pytest.raises(InvalidInputError) as info:
        sensing.list_dead_letters(city.uow, "nonsense")
    assert info.value.code == "sensing.bad_reason"


def test_a_redelivered_message_is_stored_and_counted_once(city: Sensing) -> None:
    city.devices({"code": "MH-2", "kind": "manhole", "name": "井盖 2", "lon": "114.35", "lat": "34.80"})
    message = reading("MH-2", T0, alarm=True, tilt_deg=20.0)
    first = city.send(message, message)
    second = city.send(message)
    assert len(first.cases) == 1 and second.cases == [] and second.evaluated == 0
    with city.uow:
        assert city.uow.sensing.count_readings() == 1
    assert city.episodes("MH-2")[0].breaches == 1
    case = city.case(first.cases[0].case_no)
    assert (case.kind, case.class_code) == (ClassKind.COMPONENT, "01023")  # unbound: the rule's own class


def test_a_rule_edit_applies_to_the_next_batch(city: Sensing) -> None:
    city.devices({"code": "DR-1", "kind": "drainage", "name": "排水液位 1", "lon": "114.35", "lat": "34.80"})
    before = city.send(reading("DR-1", T0, level_m=1.0), reading("DR-1", T0 + timedelta(minutes=20), level_m=1.0))
    assert before.cases == []
    changed = sensing.change_rule(
        sensing.ChangeRule("drainage-high", threshold=0.8, duration_minutes=0), city.uow, city.clock
    )
    assert changed.threshold == 0.8
    after = city.send(reading("DR-1", T0 + timedelta(minutes=21), level_m=1.0))
    assert len(after.cases) == 1
    sensing.change_rule(sensing.ChangeRule("drainage-high", enabled=False), city.uow, city.clock)
    assert not next(r for r in sensing.list_rules(city.uow) if r.id == "drainage-high").enabled
    with pytest.raises(NotFoundError):
        sensing.change_rule(sensing.ChangeRule("nope"), city.uow, city.clock)
    with pytest.raises(InvalidInputError) as info:
        sensing.change_rule(sensing.ChangeRule("manhole-alarm", threshold=3.0), city.uow, city.clock)
    assert info.value.code == "sensing.bad_rule"


def test_set_rules_validates_classes_and_writes_nothing_on_error(city: Sensing) -> None:
    row = {"id": "dust-pm25", "kind": "dust", "type": "threshold", "field": "pm25", "op": ">", "threshold": "75",
           "duration_minutes": "60", "class_kind": "matter", "class_code": "08004", "label": "PM2.5 超标"}  # fmt: skip
    bad = {**row, "id": "dust-x", "class_code": "99999"}
    with pytest.raises(ImportRejectedError) as info:
        sensing.set_rules([Row(2, row), Row(3, bad)], city.uow, city.clock)
    assert [e.code for e in info.value.errors] == ["sensing.unknown_class"]
    assert "dust-pm25" not in {r.id for r in sensing.list_rules(city.uow)}
    assert sensing.set_rules([Row(2, row)], city.uow, city.clock).written == 1
    assert "dust-pm25" in {r.id for r in sensing.list_rules(city.uow)}


def test_device_import_rejects_bad_rows_and_writes_nothing(city: Sensing) -> None:
    rows = [
        Row(2, {**PLACE, "code": "OK-1", "kind": "bin", "name": "好", "lon": "114.3", "lat": "34.8",
                "department_code": SANITATION}),
        Row(3, {**PLACE, "code": "BAD-1", "kind": "toaster", "name": "坏", "lon": "114.3", "lat": "34.8",
                "department_code": SANITATION}),
        Row(4, {**PLACE, "code": "BAD-2", "kind": "bin", "name": "坏", "lon": "x", "lat": "34.8",
                "department_code": SANITATION}),
        Row(5, {**PLACE, "code": "BAD-3", "kind": "bin", "name": "坏", "lon": "114.3", "lat": "34.8",
                "department_code": "91410204BHJ5Q4X12X"}),
        Row(6, {**PLACE, "code": "BAD-4", "kind": "bin", "name": "坏", "lon": "114.3", "lat": "34.8",
                "component_id": "41020201001999999", "department_code": SANITATION}),
    ]  # fmt: skip
    with pytest.raises(ImportRejectedError) as info:
        sensing.import_devices(rows, city.uow, city.clock)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "sensing.unknown_kind"), (4, "sensing.bad_number"), (5, "sensing.unknown_department"),
        (6, "sensing.unknown_component"),
    ]  # fmt: skip
    assert sensing.list_devices(city.uow) == []
    report = sensing.import_devices(rows, city.uow, city.clock, skip_invalid=True)
    assert report.written == 1 and [d.code for d in sensing.list_devices(city.uow)] == ["OK-1"]
    layer = sensing.device_layer(city.uow, T0)
    assert layer["features"][0]["properties"]["status"] == "离线"


def test_muck_truck_off_route_and_out_of_hours(city: Sensing) -> None:
    permit = json.dumps({"route": [[114.30, 34.80], [114.40, 34.80]], "buffer_m": 100, "hours": "22:00-06:00"})
    city.devices({"code": "TRUCK-1", "kind": "muck_truck", "name": "豫B 渣土车", "lon": "114.3", "lat": "34.8",
                  "permit": permit})  # fmt: skip
    night = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 23:00 local: permitted hours
    city.clock.set(night + timedelta(minutes=30))
    on_route = [reading("TRUCK-1", night + timedelta(minutes=m), lon=114.31 + m / 1000, lat=34.8003, speed_kmh=30)
                for m in range(0, 10)]  # fmt: skip
    assert city.send(*on_route).cases == []
    off = [reading("TRUCK-1", night + timedelta(minutes=10 + m), lon=114.33, lat=34.81, speed_kmh=30)
           for m in range(0, 7)]  # fmt: skip
    report = city.send(*off)
    assert [c.rule_id for c in report.cases] == ["truck-route"]
    case = city.case(report.cases[0].case_no)
    assert (case.location.lon, case.location.lat) == (114.33, 34.81)  # where it was seen
    day = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # 14:00 local the next day: outside the permit
    city.clock.set(day + timedelta(minutes=30))
    daytime = [reading("TRUCK-1", day + timedelta(minutes=m), lon=114.35, lat=34.8, speed_kmh=40) for m in range(7)]
    assert [c.rule_id for c in city.send(*daytime).cases] == ["truck-hours"]
