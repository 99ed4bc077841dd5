"""Business-system feeds and shared bikes on SQLite and PostgreSQL: mapping, idempotency, zones, grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Polygon

from tests.unit.test_components import make_component
from xiuhua.bootstrap import messagebus
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.geo.domain.geography import Place
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform import packagedata
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import Row
from xiuhua.sensing.services import bikes, feeds
from xiuhua.sensing.services import ingest as sensing
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
COMMUNITY = "410202001009"


def place(lon: float, lat: float) -> Place:
    """The city's locator stand-in: every point of these tests lies in one community."""
    if not (114.0 < lon < 115.0):
        raise InvalidInputError("geo.outside", "不在本市范围内")
    return Place(lon, lat, "410202", "龙亭区", "410202001", "街道", COMMUNITY, "社区", f"{COMMUNITY}001", "B")


@pytest.fixture
def city(uow: SqlUnitOfWork) -> tuple[SqlUnitOfWork, FakeClock, Handle]:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    clock = FakeClock(T0)
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"), packagedata.read("sensing/feed_mappings_default.csv"), uow, clock
    )
    return uow, clock, messagebus(uow, clock, load_policy(uow, holidays.statutory_days)).handle


EVENT = {"source": "water", "event_id": "W-2026-0001", "event_type": "pipe_burst", "lon": 114.35, "lat": 34.80,
         "description": "主干管爆管，路面积水", "address": "中山路与自由路口"}  # fmt: skip


def test_feed_events_become_cases_once_per_event_id(city: tuple[SqlUnitOfWork, FakeClock, Handle]) -> None:
    uow, clock, handle = city
    first = feeds.import_feed([EVENT, {**EVENT, "event_id": "W-2026-0002", "community_code": COMMUNITY}], uow, clock,
                              handle, place)  # fmt: skip
    assert [e for e, _ in first.created] == ["W-2026-0001", "W-2026-0002"]
    again = feeds.import_feed([EVENT], uow, clock, handle, place)
    assert again.created == [] and again.existing == [first.created[0]]
    with uow:
        case = uow.cases.get(first.created[0][1])
    assert case is not None and case.source is Source.TRANSFER
    assert (case.kind, case.class_code, case.urgency.value) == (ClassKind.COMPONENT, "01025", "urgent")
    assert case.description.startswith("[water W-2026-0001]") and case.location.community_code == COMMUNITY


def test_a_feed_batch_with_a_bad_event_writes_nothing(city: tuple[SqlUnitOfWork, FakeClock, Handle]) -> None:
    uow, clock, handle = city
    rows = [
        Row(2, {k: str(v) for k, v in EVENT.items()}),
        Row(3, {**{k: str(v) for k, v in EVENT.items()}, "event_id": "W-9", "event_type": "alien_landing"}),
        Row(4, {**{k: str(v) for k, v in EVENT.items()}, "event_id": "W-10", "lon": "200"}),
        Row(5, {**{k: str(v) for k, v in EVENT.items()}, "event_id": "W-11", "lon": "120.0"}),
    ]
    with pytest.raises(ImportRejectedError) as info:
        feeds.import_feed_table(rows, uow, clock, handle, place)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "feed.unmapped"), (4, "feed.bad_location"), (5, "feed.unlocated"),
    ]  # fmt: skip
    with uow:
        assert uow.sensing.feed_cases("water", ["W-2026-0001"]) == {}
    report = feeds.import_feed_table(rows, uow, clock, handle, place, skip_invalid=True)
    assert len(report.created) == 1 and len(report.skipped) == 3
    mapped = feeds.set_feed_mappings([Row(2, {"source": "water", "event_type": "alien_landing",
                                              "class_kind": "matter", "class_code": "06010"})], uow)  # fmt: skip
    assert mapped == 1
    assert len(feeds.import_feed_table(rows[:2], uow, clock, handle, place).created) == 1


def test_bikes_outside_zones_beyond_grace_become_cases_for_the_operator(
    city: tuple[SqlUnitOfWork, FakeClock, Handle],
) -> None:
    uow, clock, handle = city
    zone = Polygon([(114.3400, 34.8000), (114.3410, 34.8000), (114.3410, 34.8010), (114.3400, 34.8010)])
    rep = zone.representative_point()
    with uow:
        uow.components.add(
            [make_component(id="41020202025000001", name="非机动车停放点", geometry=zone, lon=rep.x, lat=rep.y)],
            T0, "clerk",
        )  # fmt: skip
        uow.commit()
    bikes.import_operators([Row(2, {"code": "hello", "name": "哈啰", "account": "op_hello", "grace_minutes": "30"}),
                            Row(3, {"code": "meituan", "name": "美团", "account": "op_meituan"})], uow)  # fmt: skip

    def pos(op: str, bike: str, lon: float, minutes: int) -> Row:
        at = T0 + timedelta(minutes=minutes)
        return Row(2, {"operator": op, "bike_id": bike, "lon": str(lon), "lat": "34.8005", "ts": at.isoformat()})

    inside, outside = 114.3405, 114.3500
    first = bikes.ingest_positions(
        [pos("hello", "H1", inside, 0), pos("hello", "H2", outside, 0), pos("meituan", "M1", outside, 0)],
        uow, clock, handle, place,
    )  # fmt: skip
    assert (first.positions, first.inside, first.cases) == (3, 1, [])
    clock.advance(minutes=40)
    later = bikes.ingest_positions(
        [pos("hello", "H2", outside, 35), pos("meituan", "M1", inside, 35), pos("hello", "H2", outside, 36)],
        uow, clock, handle, place,
    )  # fmt: skip
    assert len(later.cases) == 1  # H2 stood outside 35 minutes (grace 30); M1 was moved into a zone
    with uow:
        case = uow.cases.get(later.cases[0])
    assert case is not None and (case.kind, case.class_code) == (ClassKind.MATTER, "09011")
    assert case.reporter == "op_hello" and "H2" in case.description
    again = bikes.ingest_positions([pos("hello", "H2", outside, 50), pos("hello", "H2", outside, 20)], uow, clock,
                                   handle, place)  # fmt: skip
    assert again.cases == [] and again.positions == 2  # the same time outside opens one case only
    rates = {c.operator: (c.reports, c.inside, c.cases, c.rate) for c in bikes.compliance(uow)}
    assert rates == {"hello": (5, 1, 1, 0.2), "meituan": (2, 1, 0, 0.5)}
    layer = bikes.occupancy_layer(uow, clock.now(), fresh_minutes=120)
    assert [f["properties"]["bikes"] for f in layer["features"]] == [2]
    with pytest.raises(ImportRejectedError) as info:
        bikes.ingest_positions([Row(2, {"operator": "nobody", "bike_id": "X", "lon": "114.3", "lat": "34.8",
                                        "ts": T0.isoformat()})], uow, clock, handle, place)  # fmt: skip
    assert info.value.errors[0].code == "bikes.unknown_operator"
