"""In-memory repositories of geography, for service tests: the same Protocols as the SQL ones (geo.ports),
held in plain containers a unit of work can copy and restore (shapely geometries deep-copy).

They keep what the SQL ones promise: the component register is versioned (each change closes one version
at its moment and opens the next, a stale or unknown version raises ConflictError ``component.conflict``),
times are aware and read back in UTC (a naive one raises ValueError, as the UTCDateTime column does), and
a key the tables hold once (a component id, a unit grid code) cannot be inserted twice. Where SQL answers
that with the database's IntegrityError, the fakes raise ConflictError. Foreign keys to other repositories
(a shape's region, a grid's community, a responsibility grid's supervisor) are not checked here.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry.base import BaseGeometry

from xiuhua.geo.domain.components import Component, ComponentFilter, ComponentStatus
from xiuhua.kernel.errors import ConflictError
from xiuhua.platform.db.types import as_stored


def _in_bbox(c: Component, bbox: tuple[float, float, float, float]) -> bool:
    min_lon, min_lat, max_lon, max_lat = bbox
    return min_lon <= c.lon <= max_lon and min_lat <= c.lat <= max_lat


def _register_match(c: Component, where: ComponentFilter) -> bool:
    """The filters the register and its versions carry as columns (grid, community, class, department,
    status; removed components left out unless asked for)."""
    for value, wanted in (
        (c.grid_code, where.grid_code),
        (c.community_code, where.community_code),
        (c.class_code, where.class_code),
        (c.department_code, where.department_code),
    ):
        if wanted is not None and value != wanted:
            return False
    if where.status is not None:
        return c.status is where.status
    return where.include_removed or not c.removed


def _matches(c: Component, where: ComponentFilter) -> bool:
    """Every filter of ``where`` but its limit."""
    if not _register_match(c, where):
        return False
    if where.owner_code is not None and c.owner_code != where.owner_code:
        return False
    if where.maintainer_code is not None and c.maintainer_code != where.maintainer_code:
        return False
    return where.bbox is None or _in_bbox(c, where.bbox)


@dataclass(slots=True)
class StoredVersion:
    """One version of a component: its record (carrying the version number), valid from ``valid_from``
    (inclusive) to ``valid_to`` (exclusive; None while current), written by ``changed_by``."""

    record: Component
    valid_from: datetime
    valid_to: datetime | None
    changed_by: str

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or self.valid_to > moment)


class FakeComponents:
    """The component register (geo.ports.Components, and so ComponentLookup): current records by id plus
    every version of each."""

    def __init__(self) -> None:
        self.rows: dict[str, Component] = {}
        """Component id → its current record (carrying its current version)."""
        self.history: dict[str, list[StoredVersion]] = {}
        """Component id → its versions, oldest first."""

    # ----- writes ----------------------------------------------------------------------------------
    def add(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Insert new components as version 1 (whatever their ``version``); a known id, or one twice in the
        list, raises ConflictError ``component.duplicate`` and adds nothing."""
        moment = as_stored(at)
        counts = Counter(c.id for c in components)
        taken = sorted(i for i, n in counts.items() if n > 1 or i in self.rows)
        if taken:
            raise ConflictError("component.duplicate", f"部件标识码 {taken[0]} 已登记", ids=taken[:20])
        for c in components:
            record = dataclasses.replace(c, version=1)
            self.rows[c.id] = record
            self.history[c.id] = [StoredVersion(record, moment, None, actor)]

    def change(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Store new versions of existing components read as version ``c.version``: write ``c.version + 1``,
        close the previous version at ``at`` and append the new one. Raises ConflictError
        ``component.conflict`` and changes nothing when one is unknown or its stored version is not the one
        it was read as (one component twice in the list is a conflict of the whole list)."""
        moment = as_stored(at)
        stale = [c.id for c in components if c.id not in self.rows or self.rows[c.id].version != c.version]
        if stale:
            raise ConflictError("component.conflict", "部件已被他人修改，请刷新后重试", ids=stale[:20])
        if len({c.id for c in components}) != len(components):
            raise ConflictError(
                "component.conflict", "部件已被他人修改，请刷新后重试", ids=[c.id for c in components][:20]
            )
        for c in components:
            record = dataclasses.replace(c, version=c.version + 1)
            versions = self.history[c.id]
            versions[-1].valid_to = moment
            versions.append(StoredVersion(record, moment, None, actor))
            self.rows[c.id] = record

    # ----- current state ---------------------------------------------------------------------------
    def get(self, component_id: str) -> Component | None:
        return self.rows.get(component_id)

    def get_many(self, ids: Sequence[str]) -> dict[str, Component]:
        """The stored components among ``ids``."""
        return {i: self.rows[i] for i in ids if i in self.rows}

    def find(self, where: ComponentFilter) -> list[Component]:
        """Current components matching the filter, ordered by id, at most ``where.limit``."""
        return list(self.iter(where))

    def iter(self, where: ComponentFilter) -> Iterator[Component]:
        found = [self.rows[i] for i in sorted(self.rows) if _matches(self.rows[i], where)]
        yield from found[: where.limit]

    def count(self, where: ComponentFilter | None = None) -> int:
        """How many current components match (the filter's limit does not count)."""
        if where is None:
            return len(self.rows)
        return sum(1 for c in self.rows.values() if _matches(c, where))

    # ----- the past --------------------------------------------------------------------------------
    def versions(self, component_id: str) -> list[tuple[Component, datetime, datetime | None, str]]:
        """Every version of one component, oldest first: (record, valid from, valid to, changed by)."""
        return [(v.record, v.valid_from, v.valid_to, v.changed_by) for v in self.history.get(component_id, [])]

    def state_at(self, component_id: str, moment: datetime) -> Component | None:
        """The version valid at ``moment``, or None when the component was not yet registered."""
        at = as_stored(moment)
        valid = [v for v in self.history.get(component_id, []) if v.valid_at(at)]
        return max(valid, key=lambda v: v.record.version).record if valid else None

    def census_at(self, moment: datetime, where: ComponentFilter) -> list[Component]:
        """Every component as it stood at ``moment`` (its version then), filtered, ordered by id."""
        at = as_stored(moment)
        out: list[Component] = []
        for component_id in sorted(self.history):
            for v in self.history[component_id]:
                if not (v.valid_at(at) and _matches(v.record, where)):
                    continue
                out.append(v.record)
                if where.limit is not None and len(out) >= where.limit:
                    return out
        return out

    # ----- nearest ---------------------------------------------------------------------------------
    def points_in(self, class_code: str, bbox: tuple[float, float, float, float]) -> list[tuple[str, float, float]]:
        """(id, lon, lat) of current, not removed components of a class whose point lies in the bbox (by id;
        SQL promises no order)."""
        return [
            (c.id, c.lon, c.lat)
            for _, c in sorted(self.rows.items())
            if c.class_code == class_code and c.status is not ComponentStatus.REMOVED and _in_bbox(c, bbox)
        ]


@dataclass(frozen=True, slots=True)
class StoredGrid:
    """A unit grid as the table holds it."""

    community_code: str
    geometry: BaseGeometry
    area_m2: float
    area_class: str
    responsibility_code: str | None


class FakeGeoStore:
    """Region shapes, responsibility grids and unit grids (geo.ports.GeoStore)."""

    def __init__(self) -> None:
        self.shapes: dict[str, tuple[BaseGeometry, bool, str]] = {}
        """Region code → (outline, synthetic?, source)."""
        self.responsibility: dict[str, tuple[str, str | None]] = {}
        """Responsibility grid code → (name, supervisor username)."""
        self.unit_grids: dict[str, StoredGrid] = {}
        """Unit grid code → the grid."""

    def put_region_shapes(self, shapes: Sequence[tuple[str, BaseGeometry, bool, str]]) -> None:
        """(region code, polygon, synthetic?, source) upserted by region code."""
        for code, geometry, synthetic, source in shapes:
            self.shapes[code] = (geometry, synthetic, source)

    def region_shapes(self) -> list[tuple[str, BaseGeometry]]:
        return [(code, self.shapes[code][0]) for code in sorted(self.shapes)]

    def responsibility_codes(self) -> set[str]:
        return set(self.responsibility)

    def put_responsibility_grids(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        for code, name, supervisor in rows:
            self.responsibility[code] = (name, supervisor)

    def replace_grids(
        self, community_codes: Sequence[str], grids: Sequence[tuple[str, str, BaseGeometry, float, str, str | None]]
    ) -> None:
        """Replace the unit grids of these communities: (code, community, polygon, m², area class, responsibility).
        A grid code still held (by a community not replaced) or twice in ``grids`` raises ConflictError
        ``grid.duplicate`` and changes nothing."""
        replaced = set(community_codes)
        kept = {code: g for code, g in self.unit_grids.items() if g.community_code not in replaced}
        counts = Counter(g[0] for g in grids)
        taken = sorted(code for code, n in counts.items() if n > 1 or code in kept)
        if taken:
            raise ConflictError("grid.duplicate", f"单元网格代码 {taken[0]} 重复", codes=taken[:20])
        for code, community, geometry, area, area_class, responsibility in grids:
            kept[code] = StoredGrid(community, geometry, area, area_class, responsibility)
        self.unit_grids = kept

    def grids(self) -> list[tuple[str, BaseGeometry, str]]:
        return [
            (code, self.unit_grids[code].geometry, self.unit_grids[code].area_class) for code in sorted(self.unit_grids)
        ]

    def count_grids(self) -> int:
        return len(self.unit_grids)
