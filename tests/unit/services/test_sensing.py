"""The sensing services on the in-memory fakes: ingesting messages (dead letters, readings, alarm episodes,
cases raised through the message bus), rules and their seeding, business feeds and shared bikes.

The fake unit of work is handed to the services as a SensingUnitOfWork by ``as_sensing``; the bikes' zones
are components in the fake register."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from shapely.geometry import Polygon

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import WATER
from tests.unit.test_components import make_component
from xiuhua.bootstrap import messagebus
from xiuhua.cases.domain.case import Params
from xiuhua.cases.domain.idempotency import scope_of, scoped_key
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.geo.domain.geography import Place
from xiuhua.kernel.actor import SYSTEM_ACTOR, Actor, Role
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.events import Command
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.standards import CaseClass
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row
from xiuhua.sensing.domain.model import Device, Phase
from xiuhua.sensing.ports import SensingUnitOfWork
from xiuhua.sensing.services import bikes, feeds
from xiuhua.sensing.services import ingest as sensing
from xiuhua.sensing.services.ingest import IngestReport, Message

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Kaifeng, a Tuesday
COMMUNITY = "410202001009"
ACCEPTOR = Actor("acceptor1", frozenset({Role.ACCEPTOR}), "410200")
RULE = {
    "id": "mh-tilt", "kind": "manhole", "type": "threshold", "field": "tilt_deg", "op": ">", "threshold": "10",
    "clear_minutes": "30", "class_kind": "component", "class_code": "01001", "label": "井盖倾斜", "urgent": "1",
}  # fmt: skip


def as_sensing(uow: FakeUnitOfWork) -> SensingUnitOfWork:
    return cast(SensingUnitOfWork, uow)


def device(code: str, kind: str = "manhole", **overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "code": code, "kind": kind, "name": f"龙亭路{code}", "lon": 114.3455, "lat": 34.807, "address": "龙亭公园东门",
        "district_code": "410202", "street_code": "410202001", "community_code": COMMUNITY, "department_code": WATER,
    }  # fmt: skip
    fields.update(overrides)
    return Device(**fields)


class City:
    """The small city of the fakes with one rule and its sensors, and a bus whose ReportCase opens cases."""

    def __init__(self, uow: FakeUnitOfWork, policy: CasePolicy) -> None:
        self.uow, self.clock, self.policy = uow, FakeClock(T0), policy
        self.handle: Handle = messagebus(uow, self.clock, policy).handle
        sensing.set_rules([Row(2, RULE)], as_sensing(uow), self.clock)
        with uow:
            uow.sensing.upsert_devices([device("MH-1"), device("MH-2", active=False)], T0)
            uow.commit()

    def send(self, *messages: dict[str, Any] | bytes, topic: str = "xiuhua/sensors/manhole/x") -> IngestReport:
        batch = [Message(topic, m if isinstance(m, bytes) else json.dumps(m).encode()) for m in messages]
        return sensing.ingest_messages(batch, as_sensing(self.uow), self.clock, self.handle)

    def tilt(self, minutes: int, degrees: float, code: str = "MH-1") -> dict[str, Any]:
        at = T0 + timedelta(minutes=minutes)
        self.clock.set(max(self.clock.now(), at))
        return {"device": code, "ts": at.isoformat(), "values": {"tilt_deg": degrees}}

    def episodes(self, code: str = "MH-1") -> list[Any]:
        return sensing.show_device(as_sensing(self.uow), code).episodes


@pytest.fixture
def city(uow: FakeUnitOfWork, policy: CasePolicy) -> City:
    return City(uow, policy)


# ----- ingest: readings to alarms to cases ------------------------------------------------------------
def test_a_reading_over_the_threshold_opens_an_episode_and_raises_a_case(city: City) -> None:
    calm = city.send(city.tilt(0, 2.0))
    assert (calm.stored, calm.evaluated, calm.cases) == (1, 1, []) and city.uow.cases.rows == {}
    report = city.send(city.tilt(1, 35.0))
    assert report.stored == 1 and report.rejected == {} and report.case_errors == []
    (opened,) = report.cases
    assert (opened.device_code, opened.rule_id, opened.created) == ("MH-1", "mh-tilt", True)
    assert opened.measured_at == T0 + timedelta(minutes=1)
    case = city.uow.cases.rows[opened.case_no]
    assert (case.source, case.state, case.kind, case.class_code) == (Source.SENSOR, State.REPORTED,
                                                                     ClassKind.COMPONENT, "01001")  # fmt: skip
    assert case.reporter == "物联感知 MH-1" and case.urgency.value == "urgent"
    assert case.location.community_code == COMMUNITY and "sha256:" in case.description
    (episode,) = city.episodes()
    assert episode.case_no == opened.case_no and episode.phase is Phase.ACTIVE
    assert case.idempotency_key == scoped_key(scope_of(SYSTEM_ACTOR), f"sensing-alarm-{episode.id}")
    assert episode.trigger == [{"at": "2026-03-03T01:01:00Z", "tilt_deg": 35.0}]
    assert [e.type for e in city.uow.outbox.events] == ["case.reported", "alarm.raised"]  # an urgent case
    with city.uow:
        assert city.uow.sensing.episodes_awaiting_case() == []
        mh = city.uow.sensing.devices_by_code(["MH-1"])["MH-1"]
    assert mh.last_reading_at == T0 + timedelta(minutes=1)


def test_a_repeat_within_the_episode_raises_no_second_case(city: City) -> None:
    first = city.send(city.tilt(0, 35.0))
    again = city.send(city.tilt(1, 36.0), city.tilt(2, 40.0), city.tilt(3, 38.0))
    assert len(first.cases) == 1 and again.cases == [] and again.updated == 3
    assert list(city.uow.cases.rows) == [first.cases[0].case_no]
    (episode,) = city.episodes()
    assert (episode.breaches, episode.peak, len(episode.recent)) == (4, 40.0, 4)
    redelivered = city.send(city.tilt(3, 38.0))  # stored once, not evaluated again
    assert (redelivered.stored, redelivered.evaluated, redelivered.cases) == (1, 0, [])
    with city.uow:
        assert city.uow.sensing.count_readings() == 4


def test_after_recovery_a_new_alarm_rejoins_the_case_while_it_is_open_and_opens_one_once_it_is_voided(
    city: City,
) -> None:
    opened = city.send(city.tilt(0, 35.0)).cases[0]
    recovered = city.send(city.tilt(5, 1.0), city.tilt(40, 1.0))
    assert recovered.recovered == 1 and city.episodes()[0].phase is Phase.RECOVERED
    rejoined = city.send(city.tilt(50, 30.0))
    assert [(c.case_no, c.created) for c in rejoined.cases] == [(opened.case_no, False)]
    assert len(city.uow.cases.rows) == 1 and len(city.episodes()) == 2
    city.send(city.tilt(55, 1.0), city.tilt(90, 1.0))
    with city.uow:
        case = city.uow.cases.get(opened.case_no)
        assert case is not None
        case.apply(Action.VOID, ACCEPTOR, city.clock.now(), city.policy.timing, Params(reason="误报"))
        city.uow.cases.save(case)
        city.uow.commit()
    fresh = city.send(city.tilt(100, 30.0))
    assert [c.created for c in fresh.cases] == [True] and fresh.cases[0].case_no != opened.case_no
    assert len(city.uow.cases.rows) == 2


def test_malformed_payloads_become_dead_letters_and_nothing_else_is_written(city: City) -> None:
    before = copy.deepcopy({k: v for k, v in vars(city.uow.sensing).items() if k not in ("dead", "next_id")})
    report = city.send(b"{not json", b"\xff\xfe", b"[1, 2]", b'{"device": "MH-1", "ts": "yesterday"}')
    assert (report.received, report.stored, report.evaluated, report.cases) == (4, 0, 0, [])
    assert report.rejected == {"malformed": 4}
    letters, counts = sensing.list_dead_letters(as_sensing(city.uow))
    assert counts == {"malformed": 4} and len(letters) == 4
    assert {x.payload for x in letters} >= {"hex:fffe", "{not json"}
    assert next(x for x in letters if x.payload.startswith('{"device"')).device_code == "MH-1"
    after = {k: v for k, v in vars(city.uow.sensing).items() if k not in ("dead", "next_id")}
    assert after == before
    assert city.uow.cases.rows == {} and city.uow.outbox.events == []


def test_an_unknown_or_inactive_device_is_a_dead_letter(city: City) -> None:
    report = city.send(city.tilt(0, 35.0, "NOPE-1"), city.tilt(0, 35.0, "MH-2"), city.tilt(0, 3.0))
    assert report.rejected == {"unknown_device": 1, "inactive_device": 1} and report.stored == 1
    assert report.cases == [] and city.uow.cases.rows == {}
    unknown, _ = sensing.list_dead_letters(as_sensing(city.uow), "unknown_device")
    assert [(x.device_code, x.reason) for x in unknown] == [("NOPE-1", "unknown_device")]
    with pytest.raises(InvalidInputError) as info:
        sensing.list_dead_letters(as_sensing(city.uow), "nonsense")
    assert info.value.code == "sensing.bad_reason"


def test_an_alarm_whose_case_cannot_open_waits_and_is_raised_by_a_later_batch(city: City) -> None:
    refusals = [NotFoundError("case.unavailable", "暂时无法立案")]

    def flaky(command: Command, /, *, clock: Clock | None = None) -> Any:
        if refusals:
            raise refusals.pop()
        return city.handle(command, clock=clock)

    batch = [Message("t", json.dumps(city.tilt(0, 35.0)).encode())]
    failed = sensing.ingest_messages(batch, as_sensing(city.uow), city.clock, flaky)
    assert failed.cases == [] and failed.case_errors == ["[case.unavailable] 暂时无法立案"]
    with city.uow:
        (waiting,) = city.uow.sensing.episodes_awaiting_case()
    assert waiting.phase is Phase.ACTIVE and waiting.case_no is None and city.uow.cases.rows == {}
    later = city.send(city.tilt(1, 2.0))  # no new alarm in this batch: the waiting one is raised
    assert [(c.rule_id, c.created) for c in later.cases] == [("mh-tilt", True)]
    assert city.episodes()[0].case_no == later.cases[0].case_no
    with city.uow:
        assert city.uow.sensing.episodes_awaiting_case() == []


def test_seeding_keeps_a_citys_rules_and_mappings(city: City) -> None:
    edited = sensing.change_rule(sensing.ChangeRule("mh-tilt", threshold=20.0), as_sensing(city.uow), city.clock)
    assert edited.threshold == 20.0
    mapping = Row(2, {"source": "water", "event_type": "leak", "class_kind": "component", "class_code": "01001",
                      "urgent": "0"})  # fmt: skip
    sensing.seed_sensing([Row(2, RULE), Row(3, {**RULE, "id": "mh-new"})], [mapping], as_sensing(city.uow), city.clock)
    rules = {r.id: r.threshold for r in sensing.list_rules(as_sensing(city.uow))}
    assert rules == {"mh-new": 10.0, "mh-tilt": 20.0}
    with city.uow:
        assert city.uow.sensing.feed_mappings() == {("water", "leak"): (ClassKind.COMPONENT, "01001", False)}
    assert city.send(city.tilt(0, 15.0)).cases[0].rule_id == "mh-new"  # over the new rule only


# ----- business feeds ---------------------------------------------------------------------------------
EVENT = {"source": "water", "event_id": "W-1", "event_type": "pipe_burst", "lon": 114.35, "lat": 34.80,
         "description": "主干管爆管，路面积水", "community_code": COMMUNITY}  # fmt: skip


def test_a_feed_event_opens_one_case_and_a_bad_batch_writes_nothing(city: City) -> None:
    row = {
        "source": "water",
        "event_type": "pipe_burst",
        "class_kind": "component",
        "class_code": "01001",
        "urgent": "1",
    }
    mapped = feeds.set_feed_mappings([Row(2, row)], as_sensing(city.uow))
    assert mapped == 1
    with pytest.raises(ImportRejectedError) as info:
        feeds.import_feed([{**EVENT, "event_id": "W-0"}, {**EVENT, "event_type": "alien_landing"},
                           {**EVENT, "event_id": "W-9", "community_code": ""}], as_sensing(city.uow), city.clock,
                          city.handle)  # fmt: skip
    assert [(e.row, e.code) for e in info.value.errors] == [(2, "feed.unmapped"), (3, "feed.unlocated")]
    assert city.uow.cases.rows == {} and city.uow.sensing.feed_events == {}
    first = feeds.import_feed([EVENT], as_sensing(city.uow), city.clock, city.handle)
    ((event_id, case_no),) = first.created
    case = city.uow.cases.rows[case_no]
    assert event_id == "W-1" and case.source is Source.TRANSFER and case.description.startswith("[water W-1]")
    assert case.urgency.value == "urgent" and case.reporter == "业务系统 water"
    again = feeds.import_feed([EVENT], as_sensing(city.uow), city.clock, city.handle)
    assert again.created == [] and again.existing == [("W-1", case_no)] and len(city.uow.cases.rows) == 1


def test_a_feed_mapping_to_an_unknown_class_is_refused(city: City) -> None:
    with pytest.raises(ImportRejectedError) as info:
        feeds.set_feed_mappings([Row(2, {"source": "water", "event_type": "leak", "class_kind": "matter",
                                         "class_code": "99999"})], as_sensing(city.uow))  # fmt: skip
    assert [e.code for e in info.value.errors] == ["feed.unknown_class"]
    with city.uow:
        assert city.uow.sensing.feed_mappings() == {}


# ----- shared bikes -----------------------------------------------------------------------------------
ZONE_ID = "41020202025000001"


def place(lon: float, lat: float) -> Place:
    if not (114.0 < lon < 115.0):
        raise InvalidInputError("geo.outside", "不在本市范围内")
    return Place(lon, lat, "410202", "龙亭区", "410202001", "街道", COMMUNITY, "社区", f"{COMMUNITY}001", "B")


def test_a_bike_outside_the_zones_beyond_its_grace_becomes_one_case_for_its_operator(
    uow: FakeUnitOfWork, policy: CasePolicy
) -> None:
    city = City(uow, policy)
    zone = Polygon([(114.3400, 34.8000), (114.3410, 34.8000), (114.3410, 34.8010), (114.3400, 34.8010)])
    with uow:
        bay = make_component(id=ZONE_ID, name="非机动车停放点", geometry=zone, lon=114.3405, lat=34.8005)
        uow.components.add([bay], T0, "test")
        uow.commit()
    uow.catalog.upsert_classes([CaseClass(ClassKind.MATTER, bikes.DISORDER_CLASS, "共享单车乱象", "街面秩序")])
    operators = [
        Row(2, {"code": "hello", "name": "哈啰", "account": "op_hello", "grace_minutes": "30"}),
        Row(3, {"code": "meituan", "name": "美团", "account": "op_meituan"}),
    ]
    done = bikes.import_operators(operators, as_sensing(uow))
    assert done.written == 2

    def pos(op: str, bike: str, lon: float, minutes: int) -> Row:
        at = T0 + timedelta(minutes=minutes)
        return Row(2, {"operator": op, "bike_id": bike, "lon": str(lon), "lat": "34.8005", "ts": at.isoformat()})

    def ingest(*rows: Row) -> bikes.BikeReport:
        return bikes.ingest_positions(list(rows), as_sensing(uow), city.clock, city.handle, place)

    inside, outside = 114.3405, 114.3500
    first = ingest(pos("hello", "H1", inside, 0), pos("hello", "H2", outside, 0), pos("meituan", "M1", outside, 0))
    assert (first.positions, first.inside, first.cases) == (3, 1, [])
    later = ingest(pos("hello", "H2", outside, 35), pos("meituan", "M1", inside, 35), pos("hello", "H2", outside, 36))
    (case_no,) = later.cases  # H2 stood outside 35 minutes (grace 30); M1 was moved into a zone
    case = uow.cases.rows[case_no]
    assert (case.kind, case.class_code, case.reporter) == (ClassKind.MATTER, "09011", "op_hello")
    assert "H2" in case.description and case.location.community_code == COMMUNITY
    again = ingest(pos("hello", "H2", outside, 50), pos("hello", "H2", outside, 20))
    assert again.cases == [] and again.positions == 2  # the same time outside opens one case only
    with uow:
        assert uow.sensing.bike_states("hello", ["H2"])["H2"].case_no == case_no
    rates = {c.operator: (c.reports, c.inside, c.cases, c.rate) for c in bikes.compliance(as_sensing(uow))}
    assert rates == {"hello": (5, 1, 1, 0.2), "meituan": (2, 1, 0, 0.5)}
    layer = bikes.occupancy_layer(as_sensing(uow), T0 + timedelta(minutes=60), fresh_minutes=120)
    assert [f["properties"]["bikes"] for f in layer["features"]] == [2]
    with pytest.raises(ImportRejectedError) as info:
        ingest(Row(2, {"operator": "nobody", "bike_id": "X", "lon": "114.3", "lat": "34.8", "ts": T0.isoformat()}))
    assert info.value.errors[0].code == "bikes.unknown_operator"
