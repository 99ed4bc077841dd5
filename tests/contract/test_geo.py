"""The geography store's contract (geo.ports.GeoStore): region outlines, responsibility grids and unit grids,
the same on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from shapely.geometry import MultiPolygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import IntegrityError

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.model import Region, RegionLevel, Staff

DISTRICT, STREET = "410204", "410204001"
WEST, EAST = "410204001001", "410204001002"
D = 0.001
X0, Y0 = 114.300, 34.790
DUPLICATE = (ConflictError, IntegrityError)
"""A second row of a key the table holds once: ConflictError in the fakes, IntegrityError in SQL."""


def cell(col: int, row: int) -> BaseGeometry:
    return box(X0 + col * D, Y0 + row * D, X0 + (col + 1) * D, Y0 + (row + 1) * D)


def grid(community: str, n: int, area_class: str = "B", responsibility: str | None = None) -> tuple[Any, ...]:
    col = (0 if community == WEST else 2) + (n - 1) % 2
    geometry = cell(col, (n - 1) // 2)
    return (f"{community}{n:03d}", community, geometry, 10_000.0 + n, area_class, responsibility)


def seed(uow: Any) -> None:
    """The regions and the supervisor the stored shapes and grids refer to."""
    with uow:
        uow.regions.upsert(
            [
                Region("410200", "开封市", RegionLevel.CITY),
                Region(DISTRICT, "鼓楼区", RegionLevel.DISTRICT, "410200"),
                Region(STREET, "相国寺街道", RegionLevel.STREET, DISTRICT),
                Region(WEST, "西社区", RegionLevel.COMMUNITY, STREET),
                Region(EAST, "东社区", RegionLevel.COMMUNITY, STREET),
            ]
        )
        uow.staff.upsert([Staff("supervisor_1", "监督员", frozenset({Role.SUPERVISOR}), None, STREET)])
        uow.commit()


def exact(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(shapely.equals_exact(a, b, tolerance=0))


def grids(uow: Any) -> list[tuple[str, str]]:
    with uow:
        return [(code, area_class) for code, _, area_class in uow.geo.grids()]


def test_an_empty_store_holds_nothing_and_empty_writes_change_nothing(uow: Any) -> None:
    with uow:
        uow.geo.put_region_shapes([])
        uow.geo.put_responsibility_grids([])
        uow.geo.replace_grids([], [])
        uow.geo.replace_grids([WEST], [])  # no grids of that community: nothing to delete
        uow.commit()
    with uow:
        assert uow.geo.region_shapes() == [] and uow.geo.grids() == []
        assert uow.geo.responsibility_codes() == set() and uow.geo.count_grids() == 0


def test_region_shapes_are_upserted_by_code_and_read_back_by_code(uow: Any) -> None:
    seed(uow)
    two = MultiPolygon([box(114.29, 34.78, 114.30, 34.79), box(114.31, 34.78, 114.32, 34.79)])
    fine = box(114.123456789012345, 34.98765432101234, 114.2, 35.0)
    with uow:
        uow.geo.put_region_shapes([(WEST, box(0, 0, 1, 1), True, "demo"), (DISTRICT, two, False, "districts.shp")])
        uow.commit()
    with uow:
        uow.geo.put_region_shapes([(WEST, fine, False, "communities.gpkg"), (STREET, cell(0, 0), False, "s")])
        uow.commit()
    with uow:
        shapes = uow.geo.region_shapes()
    assert [code for code, _ in shapes] == [DISTRICT, STREET, WEST]
    assert exact(shapes[0][1], two) and shapes[0][1].geom_type == "MultiPolygon"
    assert exact(shapes[1][1], cell(0, 0)) and exact(shapes[2][1], fine)  # replaced, full precision kept


def test_responsibility_grids_are_upserted_by_code(uow: Any) -> None:
    seed(uow)
    with uow:
        uow.geo.put_responsibility_grids([(f"{STREET}R01", "一号网格", "supervisor_1"), (f"{STREET}R02", "二号", None)])
        uow.geo.put_responsibility_grids([(f"{STREET}R01", "一号网格（改）", None)])
        uow.commit()
    with uow:
        assert uow.geo.responsibility_codes() == {f"{STREET}R01", f"{STREET}R02"}


def test_replace_grids_replaces_the_grids_of_the_named_communities_only(uow: Any) -> None:
    seed(uow)
    with uow:
        uow.geo.put_responsibility_grids([(f"{STREET}R01", "一号网格", "supervisor_1")])
        uow.geo.replace_grids(
            [WEST, EAST],
            [grid(EAST, 2, "C"), grid(WEST, 1, "A", f"{STREET}R01"), grid(WEST, 2), grid(EAST, 1)],
        )
        uow.commit()
    assert grids(uow) == [(f"{WEST}001", "A"), (f"{WEST}002", "B"), (f"{EAST}001", "B"), (f"{EAST}002", "C")]
    with uow:
        assert uow.geo.count_grids() == 4
        uow.geo.replace_grids([WEST], [grid(WEST, 3, "C"), grid(WEST, 1, "B")])  # 002 goes, 003 comes, 001 changes
        uow.commit()
    assert grids(uow) == [(f"{WEST}001", "B"), (f"{WEST}003", "C"), (f"{EAST}001", "B"), (f"{EAST}002", "C")]
    with uow:
        stored = dict((code, geometry) for code, geometry, _ in uow.geo.grids())
        assert exact(stored[f"{WEST}003"], grid(WEST, 3)[2]) and exact(stored[f"{EAST}002"], grid(EAST, 2)[2])
        uow.geo.replace_grids([EAST, "410204001003"], [])  # a community without grids among them
        uow.commit()
    assert grids(uow) == [(f"{WEST}001", "B"), (f"{WEST}003", "C")]


def test_a_grid_code_held_by_a_community_not_replaced_or_given_twice_fails_and_changes_nothing(uow: Any) -> None:
    seed(uow)
    with uow:
        uow.geo.replace_grids([WEST, EAST], [grid(WEST, 1), grid(EAST, 1)])
        uow.commit()
    taken = (f"{EAST}001", WEST, cell(0, 1), 1.0, "A", None)  # East's grid code, handed to West
    for rows in ([taken], [grid(WEST, 2), grid(WEST, 2)]):
        with uow, pytest.raises(DUPLICATE):
            uow.geo.replace_grids([WEST], rows)
        assert grids(uow) == [(f"{WEST}001", "B"), (f"{EAST}001", "B")]


def test_uncommitted_writes_are_rolled_back_geometries_and_all(uow: Any) -> None:
    seed(uow)
    with uow:
        uow.geo.put_region_shapes([(WEST, cell(0, 0), False, "s")])
        uow.geo.replace_grids([WEST], [grid(WEST, 1)])
        uow.commit()
    with uow:
        uow.geo.put_region_shapes([(WEST, cell(5, 5), False, "s"), (EAST, cell(2, 0), False, "s")])
        uow.geo.replace_grids([WEST], [grid(WEST, 2)])
        uow.geo.put_responsibility_grids([(f"{STREET}R01", "一号网格", None)])
        assert uow.geo.count_grids() == 1 and [c for c, _ in uow.geo.region_shapes()] == [WEST, EAST]
    with uow:
        [(code, shape)] = uow.geo.region_shapes()
        assert code == WEST and exact(shape, cell(0, 0))
        [(grid_code, geometry, _)] = uow.geo.grids()
        assert grid_code == f"{WEST}001" and exact(geometry, grid(WEST, 1)[2])
        assert uow.geo.responsibility_codes() == set()
