"""The component register: current state (one row per id) plus append-only versions ("household register").

Every write is set-based: COPY on PostgreSQL, the driver's executemany on SQLite, in chunks, never a
SELECT per row. A version row is valid from ``valid_from`` (inclusive) to ``valid_to`` (exclusive; empty
while current). The full record of a version is written into it when the version is superseded; while
it is current the register row is its record, so a city's first load writes each record once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, cast

import shapely
from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import CursorResult

from xiuhua.geo.domain.components import (
    RECORD_FIELDS,
    AccuracyClass,
    Component,
    ComponentFilter,
    ComponentStatus,
    DataSource,
)
from xiuhua.kernel.errors import ConflictError
from xiuhua.platform.db import tables as t

_CHUNK = 5000
_IN_CHUNK = 900  # ids per IN (…): under SQLite's historic 999-variable limit

_WRITTEN = (*RECORD_FIELDS, "version", "class_code", "geometry", "updated_at", "updated_by")


def _plain(c: Component) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "department_code": c.department_code,
        "department_name": c.department_name,
        "owner_code": c.owner_code,
        "owner_name": c.owner_name,
        "maintainer_code": c.maintainer_code,
        "maintainer_name": c.maintainer_name,
        "grid_code": c.grid_code,
        "status": c.status.value,
        "initial_date": c.initial_date,
        "change_date": c.change_date,
        "data_source": c.data_source.value if c.data_source else None,
        "remark": c.remark,
        "street_code": c.street_code,
        "street_name": c.street_name,
        "community_code": c.community_code,
        "community_name": c.community_name,
        "accuracy": c.accuracy.value if c.accuracy else None,
        "lon": c.lon,
        "lat": c.lat,
    }


def _build(values: dict[str, Any], geometry: Any, version: int) -> Component:
    return Component(
        id=values["id"],
        name=values["name"],
        department_code=values["department_code"],
        department_name=values["department_name"],
        grid_code=values["grid_code"],
        status=ComponentStatus(values["status"]),
        initial_date=values["initial_date"],
        geometry=geometry,
        lon=values["lon"],
        lat=values["lat"],
        accuracy=AccuracyClass(values["accuracy"]) if values["accuracy"] else None,
        owner_code=values["owner_code"],
        owner_name=values["owner_name"],
        maintainer_code=values["maintainer_code"],
        maintainer_name=values["maintainer_name"],
        change_date=values["change_date"],
        data_source=DataSource(values["data_source"]) if values["data_source"] else None,
        remark=values["remark"],
        street_code=values["street_code"],
        street_name=values["street_name"],
        community_code=values["community_code"],
        community_name=values["community_name"],
        version=version,
    )


def _record_json(c: Component, wkb: bytes) -> str:
    plain = _plain(c)
    plain["initial_date"] = c.initial_date.isoformat()
    plain["change_date"] = c.change_date.isoformat() if c.change_date else None
    plain["geometry"] = wkb.hex()
    return json.dumps(plain, ensure_ascii=False)


def _from_json(text: str, version: int) -> Component:
    values = json.loads(text)
    values["initial_date"] = date.fromisoformat(values["initial_date"])
    values["change_date"] = date.fromisoformat(values["change_date"]) if values["change_date"] else None
    return _build(values, shapely.from_wkb(bytes.fromhex(values["geometry"])), version)


def _from_row(r: Row[Any]) -> Component:
    values = r._mapping
    return _build(dict(values), shapely.from_wkb(values["geometry"]), values["version"])


def _rows(components: Sequence[Component], versions: Sequence[int], at: datetime, actor: str) -> list[dict[str, Any]]:
    wkbs = shapely.to_wkb([c.geometry for c in components])  # one vectorised call for the whole chunk
    current = []
    for c, version, wkb in zip(components, versions, wkbs, strict=True):
        row = _plain(c)
        row.update(version=version, class_code=c.class_code, geometry=wkb, updated_at=at, updated_by=actor)
        current.append(row)
    return current


def _version_rows(
    components: Sequence[Component], versions: Sequence[int], at: datetime, actor: str
) -> list[dict[str, Any]]:
    return [
        {
            "component_id": c.id,
            "version": version,
            "valid_from": at,
            "valid_to": None,
            "changed_by": actor,
            "class_code": c.class_code,
            "grid_code": c.grid_code,
            "community_code": c.community_code,
            "department_code": c.department_code,
            "status": c.status.value,
            "record": None,
        }
        for c, version in zip(components, versions, strict=True)
    ]


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) the fastest way the backend offers: COPY on PostgreSQL, the
    driver's own executemany elsewhere. Values pass through the columns' own bind processors first, so
    they are stored exactly as an ordinary INSERT would store them."""
    if not rows:
        return
    columns = [table.c[name] for name in rows[0]]
    processors = [(i, p) for i, col in enumerate(columns) if (p := col.type.bind_processor(conn.dialect))]
    tuples: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row.values())
        for i, process in processors:
            values[i] = process(values[i])
        tuples.append(tuple(values))
    names = ", ".join(conn.dialect.identifier_preparer.quote(col.name) for col in columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for record in tuples:
                copy.write_row(record)
    else:
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", tuples)


class ComponentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ----- writes ----------------------------------------------------------------------------------
    def add(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Insert new components as version 1 (whatever their ``version``) and their first versions, in chunks."""
        for i in range(0, len(components), _CHUNK):
            chunk = components[i : i + _CHUNK]
            ones = [1] * len(chunk)
            bulk_insert(self.conn, t.components, _rows(chunk, ones, at, actor))
            bulk_insert(self.conn, t.component_versions, _version_rows(chunk, ones, at, actor))

    def change(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Store new versions of existing components read as version ``c.version``: write ``c.version + 1``,
        close the previous version at ``at`` with its full record, and append the new one. Raises
        ConflictError ``component.conflict`` when another writer got there first (the stored version is no
        longer the one before)."""
        c = t.components.c
        fields = [k for k in _WRITTEN if k != "id"]
        set_current = (
            update(t.components)
            .where(c.id == bindparam("b_id"), c.version == bindparam("b_prev"))
            .values(**{k: bindparam(f"b_{k}") for k in fields})
        )
        v = t.component_versions.c
        close = (
            update(t.component_versions)
            .where(v.component_id == bindparam("b_id"), v.version == bindparam("b_prev"))
            .values(valid_to=bindparam("b_at"), record=bindparam("b_record"))
        )
        for i in range(0, len(components), _CHUNK):
            chunk = components[i : i + _CHUNK]
            before = self.get_many([x.id for x in chunk])
            stale = [x.id for x in chunk if x.id not in before or before[x.id].version != x.version]
            if stale:
                raise ConflictError("component.conflict", "部件已被他人修改，请刷新后重试", ids=stale[:20])
            versions = [x.version + 1 for x in chunk]
            current = _rows(chunk, versions, at, actor)
            params = [{f"b_{k}": v for k, v in row.items()} | {"b_prev": row["version"] - 1} for row in current]
            result = cast(CursorResult[Any], self.conn.execute(set_current, params))
            if result.rowcount != len(chunk):
                raise ConflictError(
                    "component.conflict", "部件已被他人修改，请刷新后重试", ids=[x.id for x in chunk][:20]
                )
            old = [before[x.id] for x in chunk]
            records = [
                _record_json(o, wkb) for o, wkb in zip(old, shapely.to_wkb([o.geometry for o in old]), strict=True)
            ]
            closing = [
                {"b_id": x.id, "b_prev": x.version, "b_at": at, "b_record": record}
                for x, record in zip(chunk, records, strict=True)
            ]
            self.conn.execute(close, closing)
            bulk_insert(self.conn, t.component_versions, _version_rows(chunk, versions, at, actor))

    # ----- current state ---------------------------------------------------------------------------
    def get(self, component_id: str) -> Component | None:
        row = self.conn.execute(select(t.components).where(t.components.c.id == component_id)).first()
        return _from_row(row) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Component]:
        """The stored components among ``ids`` (one SELECT per 900 ids)."""
        found: dict[str, Component] = {}
        for i in range(0, len(ids), _IN_CHUNK):
            stmt = select(t.components).where(t.components.c.id.in_(list(ids[i : i + _IN_CHUNK])))
            for r in self.conn.execute(stmt):
                found[r.id] = _from_row(r)
        return found

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), _IN_CHUNK):
            stmt = select(t.components.c.id).where(t.components.c.id.in_(list(ids[i : i + _IN_CHUNK])))
            found.update(self.conn.scalars(stmt))
        return found

    def find(self, where: ComponentFilter) -> list[Component]:
        """Current components matching the filter, ordered by id, at most ``where.limit``."""
        return list(self.iter(where))

    def iter(self, where: ComponentFilter) -> Iterator[Component]:
        stmt: Select[Any] = select(t.components).where(*self._conditions(where)).order_by(t.components.c.id)
        if where.limit is not None:
            stmt = stmt.limit(where.limit)
        for r in self.conn.execute(stmt.execution_options(yield_per=_CHUNK)):
            yield _from_row(r)

    def count(self, where: ComponentFilter | None = None) -> int:
        stmt = select(func.count()).select_from(t.components)
        if where is not None:
            stmt = stmt.where(*self._conditions(where))
        return self.conn.scalar(stmt) or 0

    @staticmethod
    def _conditions(where: ComponentFilter) -> list[ColumnElement[bool]]:
        c = t.components.c
        out = _register_conditions(t.components, where)
        if where.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = where.bbox
            out += [c.lon.between(min_lon, max_lon), c.lat.between(min_lat, max_lat)]
        for column, value in ((c.owner_code, where.owner_code), (c.maintainer_code, where.maintainer_code)):
            if value is not None:
                out.append(column == value)
        return out

    # ----- the past --------------------------------------------------------------------------------
    def _with_records(self) -> Select[Any]:
        """Versions joined to the register row that is the record of a current version."""
        v, c = t.component_versions.c, t.components.c
        joined = t.component_versions.outerjoin(t.components, and_(c.id == v.component_id, c.version == v.version))
        return select(t.component_versions, *[col.label(f"cur_{col.name}") for col in t.components.c]).select_from(
            joined
        )

    @staticmethod
    def _record(r: Row[Any]) -> Component:
        if r.record is not None:
            return _from_json(r.record, r.version)
        values = {k[4:]: value for k, value in r._mapping.items() if isinstance(k, str) and k.startswith("cur_")}
        return _build(values, shapely.from_wkb(values["geometry"]), r.version)

    def versions(self, component_id: str) -> list[tuple[Component, datetime, datetime | None, str]]:
        """Every version of one component, oldest first: (record, valid from, valid to, changed by)."""
        v = t.component_versions.c
        stmt = self._with_records().where(v.component_id == component_id).order_by(v.version)
        return [(self._record(r), r.valid_from, r.valid_to, r.changed_by) for r in self.conn.execute(stmt)]

    def state_at(self, component_id: str, moment: datetime) -> Component | None:
        """The version valid at ``moment``, or None when the component was not yet registered."""
        v = t.component_versions.c
        stmt = self._with_records().where(v.component_id == component_id, *self._valid_at(moment))
        row = self.conn.execute(stmt.order_by(v.version.desc()).limit(1)).first()
        return self._record(row) if row else None

    def census_at(self, moment: datetime, where: ComponentFilter) -> list[Component]:
        """Every component as it stood at ``moment`` (its version then), filtered, ordered by id. The bbox
        and owner/maintainer filters apply to the record itself, after the SQL filters."""
        v = t.component_versions.c
        conditions = [*self._valid_at(moment), *_register_conditions(t.component_versions, where)]
        stmt = self._with_records().where(*conditions).order_by(v.component_id)
        out: list[Component] = []
        for r in self.conn.execute(stmt.execution_options(yield_per=_CHUNK)):
            c = self._record(r)
            if where.owner_code is not None and c.owner_code != where.owner_code:
                continue
            if where.maintainer_code is not None and c.maintainer_code != where.maintainer_code:
                continue
            if where.bbox is not None:
                min_lon, min_lat, max_lon, max_lat = where.bbox
                if not (min_lon <= c.lon <= max_lon and min_lat <= c.lat <= max_lat):
                    continue
            out.append(c)
            if where.limit is not None and len(out) >= where.limit:
                break
        return out

    @staticmethod
    def _valid_at(moment: datetime) -> tuple[ColumnElement[bool], ...]:
        v = t.component_versions.c
        return (v.valid_from <= moment, or_(v.valid_to.is_(None), v.valid_to > moment))

    # ----- nearest ---------------------------------------------------------------------------------
    def points_in(self, class_code: str, bbox: tuple[float, float, float, float]) -> list[tuple[str, float, float]]:
        """(id, lon, lat) of current, not removed components of a class whose point lies in the bbox."""
        c = t.components.c
        min_lon, min_lat, max_lon, max_lat = bbox
        stmt = select(c.id, c.lon, c.lat).where(
            and_(
                c.class_code == class_code,
                c.lon.between(min_lon, max_lon),
                c.lat.between(min_lat, max_lat),
                c.status != ComponentStatus.REMOVED.value,
            )
        )
        return [(r.id, r.lon, r.lat) for r in self.conn.execute(stmt)]


def _register_conditions(table: Table, where: ComponentFilter) -> list[ColumnElement[bool]]:
    """The filters that both the current register and its versions carry as columns (grid, community,
    class, department, status; removed components left out unless asked for)."""
    c = table.c
    out: list[ColumnElement[bool]] = []
    for column, value in (
        (c.grid_code, where.grid_code),
        (c.community_code, where.community_code),
        (c.class_code, where.class_code),
        (c.department_code, where.department_code),
    ):
        if value is not None:
            out.append(column == value)
    if where.status is not None:
        out.append(c.status == where.status.value)
    elif not where.include_removed:
        out.append(c.status != ComponentStatus.REMOVED.value)
    return out
