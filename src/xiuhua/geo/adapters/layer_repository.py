"""The layer registry, and the bounding-box reads that feed a layer's GeoJSON and vector tiles.

Unit grids are found through their bbox columns (index ``ix_unit_grids_bbox``: a range on ``min_lon``
bounded by the widest grid, the rest checked inside the index); components through their representative
lon/lat (``ix_components_lon_lat``). Region outlines are few (hundreds) and read whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Connection, Row, and_, delete, func, select
from sqlalchemy.engine import CursorResult

from xiuhua.geo.domain.components import ComponentStatus
from xiuhua.geo.domain.layers import Layer, SourceFilter, SourceKind, parse_style, style_text
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert

Bounds = tuple[float, float, float, float]


def _row(layer: Layer) -> dict[str, Any]:
    return {
        "code": layer.code,
        "name": layer.name,
        "category": layer.category,
        "source": layer.source.value,
        "source_filter": layer.source_filter.text(),
        "style": style_text(layer.style),
        "min_zoom": layer.min_zoom,
        "max_zoom": layer.max_zoom,
        "geojson_min_zoom": layer.geojson_min_zoom,
        "visible": layer.visible,
        "sort_order": layer.sort_order,
    }


def _layer(r: Row[Any]) -> Layer:
    return Layer(
        code=r.code,
        name=r.name,
        category=r.category,
        source=SourceKind(r.source),
        source_filter=SourceFilter.parse(r.source_filter),
        style=parse_style(r.style),
        min_zoom=r.min_zoom,
        max_zoom=r.max_zoom,
        geojson_min_zoom=r.geojson_min_zoom,
        visible=r.visible,
        sort_order=r.sort_order,
    )


class LayerRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ----- the registry ----------------------------------------------------------------------------
    def put(self, layer: Layer) -> None:
        """Insert or replace a layer by its code."""
        self.put_many([layer])

    def put_many(self, layers: Sequence[Layer]) -> None:
        upsert(self.conn, t.layers, [_row(x) for x in layers], ["code"])

    def get(self, code: str) -> Layer | None:
        r = self.conn.execute(select(t.layers).where(t.layers.c.code == code)).first()
        return _layer(r) if r else None

    def all(self) -> list[Layer]:
        """Every layer in drawing order (sort order, then code)."""
        stmt = select(t.layers).order_by(t.layers.c.sort_order, t.layers.c.code)
        return [_layer(r) for r in self.conn.execute(stmt)]

    def codes(self) -> set[str]:
        return set(self.conn.scalars(select(t.layers.c.code)))

    def remove(self, code: str) -> bool:
        result = cast(CursorResult[Any], self.conn.execute(delete(t.layers).where(t.layers.c.code == code)))
        return bool(result.rowcount)

    # ----- region outlines -------------------------------------------------------------------------
    def region_outlines(self, code_length: int) -> list[Row[Any]]:
        """(code, name, parent_code, synthetic, geometry WKB) of every outline whose code has this length."""
        s, r = t.region_shapes, t.regions
        stmt = (
            select(s.c.region_code.label("code"), r.c.name, r.c.parent_code, s.c.synthetic, s.c.geometry)
            .join(r, r.c.code == s.c.region_code)
            .where(func.length(s.c.region_code) == code_length)
            .order_by(s.c.region_code)
        )
        return list(self.conn.execute(stmt))

    # ----- unit grids ------------------------------------------------------------------------------
    def _grid_conditions(self, bbox: Bounds, where: SourceFilter) -> list[ColumnElement[bool]]:
        g = t.unit_grids.c
        min_lon, min_lat, max_lon, max_lat = bbox
        widest = self.conn.scalar(select(func.max(g.max_lon - g.min_lon))) or 0.0
        out = [
            g.min_lon.between(min_lon - widest, max_lon),  # the index range
            g.max_lon >= min_lon,
            g.min_lat <= max_lat,
            g.max_lat >= min_lat,
        ]
        if where.area_classes:
            out.append(g.area_class.in_(where.area_classes))
        return out

    def grids_in(self, bbox: Bounds, where: SourceFilter, *, names: bool = False) -> list[Row[Any]]:
        """Unit grids whose bbox meets ``bbox``: code, community code, area class, m², responsibility code,
        geometry WKB (and the community's name when asked)."""
        g = t.unit_grids.c
        columns = [g.code, g.community_code, g.area_class, g.area_m2, g.responsibility_code, g.geometry]
        stmt = select(*columns).where(*self._grid_conditions(bbox, where))
        if names:
            community = t.regions.alias("community")
            stmt = stmt.add_columns(community.c.name.label("community_name")).outerjoin(
                community, community.c.code == g.community_code
            )
        return list(self.conn.execute(stmt.order_by(g.code)))

    def count_grids_in(self, bbox: Bounds, where: SourceFilter) -> int:
        stmt = select(func.count()).select_from(t.unit_grids).where(*self._grid_conditions(bbox, where))
        return self.conn.scalar(stmt) or 0

    # ----- responsibility grids --------------------------------------------------------------------
    def responsibility_codes_in(self, bbox: Bounds) -> list[str]:
        g = t.unit_grids.c
        stmt = (
            select(g.responsibility_code)
            .where(*self._grid_conditions(bbox, SourceFilter()), g.responsibility_code.is_not(None))
            .distinct()
            .order_by(g.responsibility_code)
        )
        return list(self.conn.scalars(stmt))

    def grids_of_responsibility(self, codes: Sequence[str]) -> list[Row[Any]]:
        """(responsibility code, geometry WKB) of every unit grid of these responsibility grids."""
        g = t.unit_grids.c
        out: list[Row[Any]] = []
        for i in range(0, len(codes), 900):
            stmt = select(g.responsibility_code, g.geometry).where(g.responsibility_code.in_(codes[i : i + 900]))
            out += self.conn.execute(stmt)
        return out

    def responsibility_grids(self, codes: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """code → (name, supervisor username)."""
        r = t.responsibility_grids.c
        stmt = select(r.code, r.name, r.supervisor).where(r.code.in_(list(codes)))
        return {code: (name, supervisor) for code, name, supervisor in self.conn.execute(stmt)}

    # ----- components ------------------------------------------------------------------------------
    @staticmethod
    def _component_conditions(bbox: Bounds, where: SourceFilter) -> list[ColumnElement[bool]]:
        c = t.components.c
        min_lon, min_lat, max_lon, max_lat = bbox
        out: list[ColumnElement[bool]] = [c.lon.between(min_lon, max_lon), c.lat.between(min_lat, max_lat)]
        if where.class_prefix and len(where.class_prefix) == 5:
            out.append(c.class_code == where.class_prefix)
        elif where.class_prefix:
            out.append(c.class_code.like(f"{where.class_prefix}%"))
        if where.statuses:
            out.append(c.status.in_([s.value for s in where.statuses]))
        else:
            out.append(c.status != ComponentStatus.REMOVED.value)
        return out

    def component_points(self, bbox: Bounds, where: SourceFilter) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Representative lon and lat arrays of the components in ``bbox``."""
        c = t.components.c
        stmt = select(c.lon, c.lat).where(*self._component_conditions(bbox, where))
        result = cast(CursorResult[Any], self.conn.execute(stmt))
        # Tens of thousands of plain number pairs: the driver's own tuples, without building a Row for each
        # (measured 4x faster for a z12 tile of the demo city).
        rows = result.cursor.fetchall()
        result.close()
        if not rows:
            return np.empty(0), np.empty(0)
        array = np.array(rows, dtype=np.float64)
        return array[:, 0].copy(), array[:, 1].copy()

    def components_in(self, bbox: Bounds, where: SourceFilter) -> list[Row[Any]]:
        """Components whose representative point lies in ``bbox``, with their class name and geometry WKB."""
        c = t.components.c
        k = t.case_classes.c
        stmt = (
            select(
                c.id,
                c.name,
                c.class_code,
                k.name.label("class_name"),
                c.status,
                c.department_code,
                c.department_name,
                c.grid_code,
                c.geometry,
            )
            .outerjoin(t.case_classes, and_(k.kind == ClassKind.COMPONENT.value, k.code == c.class_code))
            .where(*self._component_conditions(bbox, where))
            .order_by(c.id)
        )
        return list(self.conn.execute(stmt))

    def count_components_in(self, bbox: Bounds, where: SourceFilter) -> int:
        stmt = select(func.count()).select_from(t.components).where(*self._component_conditions(bbox, where))
        return self.conn.scalar(stmt) or 0

    def component_class_names(self) -> dict[str, str]:
        k = t.case_classes.c
        stmt = select(k.code, k.name).where(k.kind == ClassKind.COMPONENT.value)
        return {code: name for code, name in self.conn.execute(stmt)}
