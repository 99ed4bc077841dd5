"""Ports of geography: the repositories its services use, and the unit of work that carries them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Row

from xiuhua.geo.domain.components import (
    Component,
    ComponentFilter,
)
from xiuhua.geo.domain.layers import Layer, SourceFilter
from xiuhua.kernel.ports import UnitOfWork
from xiuhua.org.ports import Catalog, Regions, SettingsStore, StaffDirectory

Bounds = tuple[float, float, float, float]
"""(west, south, east, north) in degrees."""


class GeoStore(Protocol):
    """Region shapes and the grids (unit and responsibility)."""

    def put_region_shapes(self, shapes: Sequence[tuple[str, BaseGeometry, bool, str]]) -> None:
        """(region code, polygon, synthetic?, source) upserted by region code."""
        ...

    def region_shapes(self) -> list[tuple[str, BaseGeometry]]: ...

    def responsibility_codes(self) -> set[str]: ...

    def put_responsibility_grids(self, rows: Sequence[tuple[str, str, str | None]]) -> None: ...

    def replace_grids(
        self, community_codes: Sequence[str], grids: Sequence[tuple[str, str, BaseGeometry, float, str, str | None]]
    ) -> None:
        """Replace the unit grids of these communities: (code, community, polygon, m², area class, responsibility)."""
        ...

    def grids(self) -> list[tuple[str, BaseGeometry, str]]: ...

    def count_grids(self) -> int: ...


class ComponentLookup(Protocol):
    """One component by id: what the case loop needs."""

    def get(self, component_id: str) -> Component | None: ...


class Components(ComponentLookup, Protocol):
    """The component register, versioned: each change closes one version and opens the next."""

    def add(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Insert new components as version 1 (whatever their ``version``) and their first versions, in chunks."""
        ...

    def change(self, components: Sequence[Component], at: datetime, actor: str) -> None:
        """Store new versions of existing components read as version ``c.version``: write ``c.version + 1``,
        close the previous version at ``at`` with its full record, and append the new one. Raises
        ConflictError ``component.conflict`` when another writer got there first (the stored version is no
        longer the one before)."""
        ...

    def get_many(self, ids: Sequence[str]) -> dict[str, Component]:
        """The stored components among ``ids`` (one SELECT per 900 ids)."""
        ...

    def find(self, where: ComponentFilter) -> list[Component]:
        """Current components matching the filter, ordered by id, at most ``where.limit``."""
        ...

    def iter(self, where: ComponentFilter) -> Iterator[Component]: ...

    def count(self, where: ComponentFilter | None = None) -> int: ...

    def versions(self, component_id: str) -> list[tuple[Component, datetime, datetime | None, str]]:
        """Every version of one component, oldest first: (record, valid from, valid to, changed by)."""
        ...

    def state_at(self, component_id: str, moment: datetime) -> Component | None:
        """The version valid at ``moment``, or None when the component was not yet registered."""
        ...

    def census_at(self, moment: datetime, where: ComponentFilter) -> list[Component]:
        """Every component as it stood at ``moment`` (its version then), filtered, ordered by id. The bbox
        and owner/maintainer filters apply to the record itself, after the SQL filters."""
        ...

    def points_in(self, class_code: str, bbox: tuple[float, float, float, float]) -> list[tuple[str, float, float]]:
        """(id, lon, lat) of current, not removed components of a class whose point lies in the bbox."""
        ...


class Layers(Protocol):
    """The map layers and the features they draw from."""

    def put(self, layer: Layer) -> None:
        """Insert or replace a layer by its code."""
        ...

    def put_many(self, layers: Sequence[Layer]) -> None: ...

    def get(self, code: str) -> Layer | None: ...

    def all(self) -> list[Layer]:
        """Every layer in drawing order (sort order, then code)."""
        ...

    def codes(self) -> set[str]: ...

    def remove(self, code: str) -> bool: ...

    def region_outlines(self, code_length: int) -> list[Row[Any]]:
        """(code, name, parent_code, synthetic, geometry WKB) of every outline whose code has this length."""
        ...

    def grids_in(self, bbox: Bounds, where: SourceFilter, *, names: bool = False) -> list[Row[Any]]:
        """Unit grids whose bbox meets ``bbox``: code, community code, area class, m², responsibility code,
        geometry WKB (and the community's name when asked)."""
        ...

    def count_grids_in(self, bbox: Bounds, where: SourceFilter) -> int: ...

    def responsibility_codes_in(self, bbox: Bounds) -> list[str]: ...

    def grids_of_responsibility(self, codes: Sequence[str]) -> list[Row[Any]]:
        """(responsibility code, geometry WKB) of every unit grid of these responsibility grids."""
        ...

    def responsibility_grids(self, codes: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """code → (name, supervisor username)."""
        ...

    def component_points(self, bbox: Bounds, where: SourceFilter) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Representative lon and lat arrays of the components in ``bbox``."""
        ...

    def components_in(self, bbox: Bounds, where: SourceFilter) -> list[Row[Any]]:
        """Components whose representative point lies in ``bbox``, with their class name and geometry WKB."""
        ...

    def count_components_in(self, bbox: Bounds, where: SourceFilter) -> int: ...


class GeoUnitOfWork(UnitOfWork, Protocol):
    """What geography's services use."""

    @property
    def geo(self) -> GeoStore: ...
    @property
    def components(self) -> Components: ...
    @property
    def layers(self) -> Layers: ...
    @property
    def regions(self) -> Regions: ...
    @property
    def staff(self) -> StaffDirectory: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def settings(self) -> SettingsStore: ...
