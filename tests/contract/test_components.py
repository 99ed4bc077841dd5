"""The component register's contract (geo.ports.Components): versions, the past and the queries the
component services rely on, the same on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy.exc import IntegrityError, StatementError

from tests.unit.test_components import DEPT, make_component
from xiuhua.geo.domain.components import AccuracyClass, Component, ComponentFilter, ComponentStatus, DataSource
from xiuhua.kernel.errors import ConflictError

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
T1, T2 = T0 + timedelta(days=10), T0 + timedelta(days=20)
OTHER = "12410202D92N8X1B21"
A, B, C = "41020201001000001", "41020201001000002", "41020202001000001"

DUPLICATE = (ConflictError, IntegrityError, psycopg.IntegrityError)
"""A second row of a key the table holds once: ConflictError in the fakes, the database's integrity error in
SQL (the driver's own where PostgreSQL's COPY wrote the rows)."""
NAIVE = (ValueError, StatementError)
"""A naive time: ValueError, raised by the column type (SQLAlchemy wraps it when it binds a statement)."""


def at(lon: float, lat: float, **overrides: Any) -> Component:
    return make_component(geometry=Point(lon, lat), lon=lon, lat=lat, **overrides)


def full(**overrides: Any) -> Component:
    """A line with every optional field set: what a closed version's stored record must carry through."""
    road = LineString([(114.123456789012345, 34.98765432101234), (114.2, 34.3)])
    fields: dict[str, Any] = {
        "id": C, "geometry": road, "lon": 114.15, "lat": 34.7, "owner_code": DEPT, "owner_name": "权属单位",
        "maintainer_code": OTHER, "maintainer_name": "养护单位", "change_date": date(2024, 2, 29),
        "data_source": DataSource.SURVEYED, "remark": "备注, 含逗号\n和换行", "street_code": "410202001",
        "street_name": "北书店街街道", "community_code": "410202001009", "community_name": "某社区",
        "accuracy": AccuracyClass.A,
    }  # fmt: skip
    fields.update(overrides)
    return make_component(**fields)


def add(uow: Any, components: list[Component], moment: datetime = T0, actor: str = "clerk") -> None:
    with uow:
        uow.components.add(components, moment, actor)
        uow.commit()


def change(uow: Any, components: list[Component], moment: datetime, actor: str = "editor") -> None:
    with uow:
        uow.components.change(components, moment, actor)
        uow.commit()


def same(got: Component | None, want: Component, version: int) -> bool:
    return got is not None and got.same_record(want) and got.version == version


def ids(components: list[Component]) -> list[str]:
    return [c.id for c in components]


# ----- writes ------------------------------------------------------------------------------------
def test_add_stores_version_one_whatever_the_given_version_and_reads_back_every_field(uow: Any) -> None:
    line = full(version=7)
    square = Polygon([(114.3, 34.8), (114.3003, 34.8), (114.3003, 34.8002), (114.3, 34.8002)])
    polygon = make_component(id=B, geometry=square, lon=114.30015, lat=34.8001, status=ComponentStatus.ABANDONED)
    add(uow, [line, polygon, make_component()])
    with uow:
        assert same(uow.components.get(C), line, 1)
        assert same(uow.components.get(B), polygon, 1)
        [(record, valid_from, valid_to, actor)] = uow.components.versions(C)
    assert same(record, line, 1) and (valid_from, valid_to, actor) == (T0, None, "clerk")
    assert valid_from.utcoffset() == timedelta(0)  # read back in UTC, as stored


def test_an_empty_register_answers_nothing_and_empty_writes_do_nothing(uow: Any) -> None:
    with uow:
        uow.components.add([], T0, "clerk")
        uow.components.change([], T0, "clerk")
        uow.commit()
    with uow:
        assert uow.components.get(A) is None and uow.components.get("") is None
        assert uow.components.get_many([]) == {} and uow.components.get_many([A, B]) == {}
        assert uow.components.find(ComponentFilter(include_removed=True, limit=None)) == []
        assert list(uow.components.iter(ComponentFilter())) == []
        assert uow.components.count() == 0 and uow.components.count(ComponentFilter(include_removed=True)) == 0
        assert uow.components.versions(A) == [] and uow.components.state_at(A, T1) is None
        assert uow.components.census_at(T1, ComponentFilter(include_removed=True)) == []
        assert uow.components.points_in("01001", (-180, -90, 180, 90)) == []


def test_adding_a_known_id_fails_and_adds_nothing(uow: Any) -> None:
    add(uow, [make_component()])
    for batch in ([make_component(id=B), make_component(name="另一个")], [make_component(id=B), make_component(id=B)]):
        with uow, pytest.raises(DUPLICATE):
            uow.components.add(batch, T1, "clerk")
        with uow:
            assert uow.components.get(B) is None and uow.components.count() == 1
            assert same(uow.components.get(A), make_component(), 1) and len(uow.components.versions(A)) == 1


def test_a_naive_time_is_refused(uow: Any) -> None:
    naive = datetime(2026, 3, 2, 9, 0)
    with uow, pytest.raises(NAIVE):
        uow.components.add([make_component()], naive, "clerk")
    add(uow, [make_component()])
    with uow, pytest.raises(NAIVE):
        uow.components.state_at(A, naive)
    with uow, pytest.raises(NAIVE):
        uow.components.census_at(naive, ComponentFilter())


def test_each_change_closes_the_previous_version_with_its_full_record(uow: Any) -> None:
    v1 = full()
    add(uow, [v1])
    v2 = full(name="改名", status=ComponentStatus.DAMAGED, owner_code=None, owner_name=None, version=1)
    change(uow, [v2], T1, "supervisor_1")
    v3 = full(geometry=Point(114.2, 34.3), lon=114.2, lat=34.3, accuracy=None, remark=None, version=2)
    change(uow, [v3], T2, "admin")
    with uow:
        assert same(uow.components.get(C), v3, 3)
        versions = uow.components.versions(C)
        assert uow.components.count(ComponentFilter(include_removed=True)) == 1
    assert [(v.version, frm, to, who) for v, frm, to, who in versions] == [
        (1, T0, T1, "clerk"),
        (2, T1, T2, "supervisor_1"),
        (3, T2, None, "admin"),
    ]
    assert [same(v, want, n) for (v, *_), want, n in zip(versions, (v1, v2, v3), (1, 2, 3), strict=True)] == [True] * 3
    assert shapely.equals_exact(versions[0][0].geometry, v1.geometry, tolerance=0)  # full precision kept


def test_a_change_of_an_unknown_or_stale_component_is_a_conflict_that_changes_nothing(uow: Any) -> None:
    add(uow, [make_component(), make_component(id=B)])
    for batch in (
        [make_component(id="41020201001999999", version=1)],  # never registered
        [make_component(name="改名", version=0)],  # read before it was stored
        [make_component(id=B, name="改名", version=1), make_component(name="改名", version=2)],  # one stale
    ):
        with uow:
            with pytest.raises(ConflictError) as exc:
                uow.components.change(batch, T1, "editor")
            assert exc.value.code == "component.conflict"
            assert exc.value.details["ids"] == [batch[-1].id]
            assert [c.version for c in uow.components.get_many([A, B]).values()] == [1, 1]
            assert uow.components.get(B).name == "供水井盖" and len(uow.components.versions(B)) == 1


def test_one_component_twice_in_a_change_is_a_conflict(uow: Any) -> None:
    add(uow, [make_component()])
    with uow, pytest.raises(ConflictError) as exc:
        uow.components.change([make_component(name="甲", version=1), make_component(name="乙", version=1)], T1, "e")
    assert exc.value.code == "component.conflict"
    with uow:  # the failed unit of work was rolled back
        assert same(uow.components.get(A), make_component(), 1) and len(uow.components.versions(A)) == 1


def test_an_uncommitted_change_is_rolled_back_with_the_version_it_closed(uow: Any) -> None:
    add(uow, [make_component()])
    with uow:
        uow.components.change([make_component(name="改名", version=1)], T1, "editor")
        uow.components.add([make_component(id=B)], T1, "clerk")
        assert uow.components.get(A).version == 2
    with uow:
        assert same(uow.components.get(A), make_component(), 1) and uow.components.get(B) is None
        assert [(frm, to) for _, frm, to, _ in uow.components.versions(A)] == [(T0, None)]
        assert uow.components.state_at(A, T2) is not None and uow.components.state_at(A, T2).version == 1


# ----- current state ---------------------------------------------------------------------------------
def test_get_many_answers_the_known_among_many_ids_past_the_chunk_size(uow: Any) -> None:
    many = [make_component(id=f"41020201001{n:06d}") for n in range(1, 1001)]
    add(uow, many)
    wanted = [c.id for c in many[::-1]] + ["41020201001999999", many[0].id, "nonsense"]
    with uow:
        found = uow.components.get_many(wanted)
        assert uow.components.count() == 1000
    assert sorted(found) == sorted(c.id for c in many)
    assert all(found[c.id].id == c.id and found[c.id].version == 1 for c in many)


def seed_points(uow: Any) -> None:
    """Five components around (114.3, 34.8), added out of id order."""
    add(
        uow,
        [
            at(114.3100, 34.8000, id="41020201001000003", maintainer_code=OTHER, maintainer_name="养护"),
            at(114.3001, 34.8000, id="41020201001000004", status=ComponentStatus.REMOVED, owner_code=DEPT,
               owner_name="甲"),
            at(114.3000, 34.8000, id="41020201001000001", owner_code=DEPT, owner_name="甲"),
            at(114.3010, 34.8000, id="41020201001000002", status=ComponentStatus.DAMAGED, department_code=OTHER),
            at(114.3002, 34.8005, id="41020201002000001", community_code="410202001009",
               grid_code="410202001009002"),
        ],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        pytest.param({}, ["01001000001", "01001000002", "01001000003", "01002000001"], id="removed left out"),
        pytest.param(
            {"include_removed": True},
            ["01001000001", "01001000002", "01001000003", "01001000004", "01002000001"],
            id="include removed",
        ),
        pytest.param({"status": ComponentStatus.REMOVED}, ["01001000004"], id="removed asked by status"),
        pytest.param({"status": ComponentStatus.DAMAGED}, ["01001000002"], id="status"),
        pytest.param({"status": ComponentStatus.MISSING}, [], id="status none has"),
        pytest.param({"class_code": "01002"}, ["01002000001"], id="class"),
        pytest.param({"class_code": "99999"}, [], id="unknown class"),
        pytest.param({"grid_code": "410202001009002"}, ["01002000001"], id="grid"),
        pytest.param({"community_code": "410202001009"}, ["01002000001"], id="community"),
        pytest.param({"department_code": OTHER}, ["01001000002"], id="department"),
        pytest.param({"owner_code": DEPT}, ["01001000001"], id="owner without the removed one"),
        pytest.param({"owner_code": DEPT, "include_removed": True}, ["01001000001", "01001000004"], id="owner all"),
        pytest.param({"maintainer_code": OTHER}, ["01001000003"], id="maintainer"),
        pytest.param({"bbox": (114.3, 34.8, 114.301, 34.8)}, ["01001000001", "01001000002"], id="bbox edges"),
        pytest.param(
            {"bbox": (114.2999, 34.79, 114.3011, 34.81)}, ["01001000001", "01001000002", "01002000001"], id="bbox"
        ),
        pytest.param({"bbox": (0.0, 0.0, 1.0, 1.0)}, [], id="bbox elsewhere"),
        pytest.param(
            {"class_code": "01001", "grid_code": "410202001009001", "status": ComponentStatus.INTACT},
            ["01001000001", "01001000003"],
            id="class grid status",
        ),
        pytest.param(
            {"class_code": "01001", "department_code": OTHER, "bbox": (114.3, 34.8, 114.305, 34.8)},
            ["01001000002"],
            id="class department bbox",
        ),
        pytest.param({"class_code": "01002", "department_code": OTHER}, [], id="disjoint"),
        pytest.param({"limit": 2}, ["01001000001", "01001000002"], id="limit"),
        pytest.param(
            {"limit": None, "include_removed": True, "bbox": (114.3001, 34.8, 114.31, 34.8)},
            ["01001000002", "01001000003", "01001000004"],
            id="no limit",
        ),
    ],
)
def test_find_iter_and_count_filter_alike(uow: Any, where: dict[str, Any], expected: list[str]) -> None:
    seed_points(uow)
    full_ids = ["410202" + e for e in expected]
    with uow:
        found = uow.components.find(ComponentFilter(**where))
        iterated = list(uow.components.iter(ComponentFilter(**where)))
        counted = uow.components.count(ComponentFilter(**where))
    assert ids(found) == ids(iterated) == full_ids  # ordered by id, whatever the order they were added in
    assert all(c.version == 1 for c in found)
    unlimited = ComponentFilter(**where | {"limit": None})
    with uow:
        assert counted == len(uow.components.find(unlimited))  # count pays no heed to the limit


def test_count_without_a_filter_counts_removed_ones_and_with_one_ignores_the_limit(uow: Any) -> None:
    seed_points(uow)
    with uow:
        assert uow.components.count() == 5
        assert uow.components.count(ComponentFilter()) == 4
        assert uow.components.count(ComponentFilter(limit=1)) == 4
        assert len(uow.components.find(ComponentFilter(limit=1))) == 1


def test_find_sees_the_current_version_only(uow: Any) -> None:
    seed_points(uow)
    change(uow, [at(114.3000, 34.8000, status=ComponentStatus.MISSING, version=1)], T1)
    with uow:
        assert ids(uow.components.find(ComponentFilter(owner_code=DEPT))) == []  # the new record has no owner
        [missing] = uow.components.find(ComponentFilter(status=ComponentStatus.MISSING))
    assert missing.id == A and missing.version == 2


def test_points_in_gives_the_current_live_components_of_a_class_in_a_bbox(uow: Any) -> None:
    seed_points(uow)
    with uow:
        got = sorted(uow.components.points_in("01001", (114.3, 34.8, 114.31, 34.8)))
        assert uow.components.points_in("01001", (114.3003, 34.79, 114.3009, 34.81)) == []
        assert uow.components.points_in("01002", (114.3, 34.8, 114.31, 34.8)) == []  # its lat is 34.8005
        assert uow.components.points_in("01002", (114.3002, 34.8005, 114.3002, 34.8005)) == [
            ("41020201002000001", 114.3002, 34.8005)
        ]
        assert uow.components.points_in("02001", (-180, -90, 180, 90)) == []
    assert got == [  # the removed one (…004) is left out; the damaged one is live; both bbox edges count
        ("41020201001000001", 114.3, 34.8),
        ("41020201001000002", 114.301, 34.8),
        ("41020201001000003", 114.31, 34.8),
    ]


# ----- the past ----------------------------------------------------------------------------------
def test_state_at_reads_the_version_valid_at_a_moment(uow: Any) -> None:
    v1 = make_component()
    add(uow, [v1])
    v2 = make_component(status=ComponentStatus.DAMAGED, version=1)
    change(uow, [v2], T1)
    v3 = make_component(status=ComponentStatus.REMOVED, remark="拆除", version=2)
    change(uow, [v3], T2)
    with uow:

        def state(moment: datetime) -> Component | None:
            found: Component | None = uow.components.state_at(A, moment)
            return found

        assert state(T0 - timedelta(microseconds=1)) is None  # before the first version
        assert same(state(T0), v1, 1)  # valid from is inclusive
        assert same(state(T1 - timedelta(microseconds=1)), v1, 1)
        assert same(state(T1), v2, 2)  # valid to is exclusive
        assert same(state((T1 + timedelta(days=5)).astimezone(UTC)), v2, 2)  # any time zone
        assert same(state(T2), v3, 3) and same(state(T2 + timedelta(days=999)), v3, 3)
        assert uow.components.state_at(B, T2) is None


def test_a_change_at_the_moment_of_the_add_leaves_the_first_version_never_valid(uow: Any) -> None:
    add(uow, [make_component()])
    change(uow, [make_component(name="当场改名", version=1)], T0)
    with uow:
        assert [(v.version, frm, to) for v, frm, to, _ in uow.components.versions(A)] == [(1, T0, T0), (2, T0, None)]
        state = uow.components.state_at(A, T0)
        census = uow.components.census_at(T0, ComponentFilter())
    assert state is not None and (state.version, state.name) == (2, "当场改名")
    assert [(c.version, c.name) for c in census] == [(2, "当场改名")]


def history(uow: Any) -> None:
    """At T0: A intact (owner DEPT), B intact. At T1: A damaged, C registered. At T2: B removed, A moves."""
    add(uow, [at(114.30, 34.80, owner_code=DEPT, owner_name="甲"), at(114.40, 34.80, id=B)])
    with uow:
        uow.components.change(
            [at(114.30, 34.80, owner_code=DEPT, owner_name="甲", status=ComponentStatus.DAMAGED, version=1)], T1, "e"
        )
        uow.components.add([at(114.50, 34.80, id=C, grid_code="410202001009002")], T1, "clerk")
        uow.commit()
    with uow:
        uow.components.change([at(114.40, 34.80, id=B, status=ComponentStatus.REMOVED, version=1)], T2, "e")
        moved = at(114.35, 34.85, maintainer_code=OTHER, maintainer_name="养护", version=2)
        uow.components.change([moved], T2, "e")
        uow.commit()


@pytest.mark.parametrize(
    ("moment", "where", "expected"),
    [
        pytest.param(T0 - timedelta(seconds=1), {"include_removed": True}, [], id="before anything"),
        pytest.param(T0, {}, [(A, 1), (B, 1)], id="at the first add"),
        pytest.param(T1 - timedelta(seconds=1), {}, [(A, 1), (B, 1)], id="just before the first change"),
        pytest.param(T0 + timedelta(days=15), {}, [(A, 2), (B, 1), (C, 1)], id="between versions"),
        pytest.param(T0 + timedelta(days=15), {"status": ComponentStatus.DAMAGED}, [(A, 2)], id="status then"),
        pytest.param(T0 + timedelta(days=5), {"status": ComponentStatus.DAMAGED}, [], id="not yet damaged"),
        pytest.param(T2, {}, [(A, 3), (C, 1)], id="removed left out"),
        pytest.param(T2, {"include_removed": True}, [(A, 3), (B, 2), (C, 1)], id="removed asked for"),
        pytest.param(T2, {"status": ComponentStatus.REMOVED}, [(B, 2)], id="removed by status"),
        pytest.param(T2, {"class_code": "02001"}, [(C, 1)], id="class"),
        pytest.param(T2, {"grid_code": "410202001009002"}, [(C, 1)], id="grid"),
        pytest.param(T2, {"department_code": OTHER}, [], id="department"),
        pytest.param(T0 + timedelta(days=15), {"owner_code": DEPT}, [(A, 2)], id="owner then"),
        pytest.param(T2, {"owner_code": DEPT}, [], id="owner no longer"),
        pytest.param(T2, {"maintainer_code": OTHER}, [(A, 3)], id="maintainer now"),
        pytest.param(T1, {"bbox": (114.29, 34.79, 114.31, 34.81)}, [(A, 2)], id="bbox on the record then"),
        pytest.param(T2, {"bbox": (114.29, 34.79, 114.31, 34.81)}, [], id="moved out of the bbox"),
        pytest.param(T2, {"bbox": (114.35, 34.85, 114.5, 34.85), "include_removed": True}, [(A, 3)], id="bbox edges"),
        pytest.param(T1, {"limit": 2}, [(A, 2), (B, 1)], id="limit"),
        pytest.param(T2, {"limit": 1, "grid_code": "410202001009002"}, [(C, 1)], id="limit after the filters"),
        pytest.param(T2, {"limit": 1, "bbox": (114.4, 34.7, 114.6, 34.9)}, [(C, 1)], id="limit after the bbox"),
    ],
)
def test_census_at_a_moment_filters_the_records_of_then(
    uow: Any, moment: datetime, where: dict[str, Any], expected: list[tuple[str, int]]
) -> None:
    history(uow)
    with uow:
        census = uow.components.census_at(moment, ComponentFilter(**where))
    assert [(c.id, c.version) for c in census] == expected


def test_census_records_are_the_versions_of_then(uow: Any) -> None:
    history(uow)
    with uow:
        [a, b, c] = uow.components.census_at(T0 + timedelta(days=15), ComponentFilter(include_removed=True))
    assert same(a, at(114.30, 34.80, owner_code=DEPT, owner_name="甲", status=ComponentStatus.DAMAGED), 2)
    assert same(b, at(114.40, 34.80, id=B), 1)
    assert same(c, at(114.50, 34.80, id=C, grid_code="410202001009002"), 1)
