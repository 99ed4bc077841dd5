"""Stored shapes: region outlines, unit grids (WKB, WGS84) and responsibility grids."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, delete, func, select

from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert

_CHUNK = 2000


class GeoRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put_region_shapes(self, shapes: Sequence[tuple[str, BaseGeometry, bool, str]]) -> None:
        """(region code, polygon, synthetic?, source) upserted by region code."""
        rows = [
            {"region_code": code, "geometry": shapely.to_wkb(geom), "synthetic": synthetic, "source": source}
            for code, geom, synthetic, source in shapes
        ]
        upsert(self.conn, t.region_shapes, rows, ["region_code"])

    def region_shapes(self) -> list[tuple[str, BaseGeometry]]:
        stmt = select(t.region_shapes.c.region_code, t.region_shapes.c.geometry).order_by(t.region_shapes.c.region_code)
        return [(code, shapely.from_wkb(wkb)) for code, wkb in self.conn.execute(stmt)]

    def responsibility_codes(self) -> set[str]:
        return set(self.conn.scalars(select(t.responsibility_grids.c.code)))

    def put_responsibility_grids(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        upsert(
            self.conn,
            t.responsibility_grids,
            [{"code": c, "name": n, "supervisor": s} for c, n, s in rows],
            ["code"],
        )

    def replace_grids(
        self, community_codes: Sequence[str], grids: Sequence[tuple[str, str, BaseGeometry, float, str, str | None]]
    ) -> None:
        """Replace the unit grids of these communities: (code, community, polygon, m², area class, responsibility)."""
        for i in range(0, len(community_codes), _CHUNK):
            chunk = list(community_codes[i : i + _CHUNK])
            self.conn.execute(delete(t.unit_grids).where(t.unit_grids.c.community_code.in_(chunk)))
        rows = []
        for code, community, geom, area, area_class, responsibility in grids:
            minx, miny, maxx, maxy = geom.bounds
            rows.append(
                {
                    "code": code,
                    "community_code": community,
                    "geometry": shapely.to_wkb(geom),
                    "area_m2": area,
                    "area_class": area_class,
                    "responsibility_code": responsibility,
                    "min_lon": minx,
                    "min_lat": miny,
                    "max_lon": maxx,
                    "max_lat": maxy,
                }
            )
        for i in range(0, len(rows), _CHUNK):
            self.conn.execute(t.unit_grids.insert(), rows[i : i + _CHUNK])

    def grids(self) -> list[tuple[str, BaseGeometry, str]]:
        stmt = select(t.unit_grids.c.code, t.unit_grids.c.geometry, t.unit_grids.c.area_class).order_by(
            t.unit_grids.c.code
        )
        return [(code, shapely.from_wkb(wkb), area) for code, wkb, area in self.conn.execute(stmt)]

    def grid_sizes(self) -> list[tuple[str, float, str]]:
        """(community code, area in m², area class) of every unit grid."""
        g = t.unit_grids.c
        return [(c, a, k) for c, a, k in self.conn.execute(select(g.community_code, g.area_m2, g.area_class))]

    def count_grids(self) -> int:
        return self.conn.scalar(select(func.count()).select_from(t.unit_grids)) or 0
