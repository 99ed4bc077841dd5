"""The demo city's source data, read from the package: divisions, catalogue, standards, departments, outlines."""

from __future__ import annotations

from xiuhua.demo.city import DemoSources
from xiuhua.platform import packagedata


def demo_sources(*, geometry: bool = True, census_scale: float = 1.0) -> DemoSources:
    """The demo city's package data; without geometry (no outlines, no unit grids) it builds in a fraction
    of the time, which is what tests of the closed loop want."""
    return DemoSources(
        regions=packagedata.read(packagedata.DIVISIONS),
        classes=packagedata.read(packagedata.DIRECTORY),
        standards=packagedata.read(packagedata.DEFAULT_STANDARDS),
        organizations=packagedata.read(packagedata.DEPARTMENTS),
        geometry=packagedata.read_features(packagedata.DEMO_GEOMETRY) if geometry else (),
        census_scale=census_scale,
    )
