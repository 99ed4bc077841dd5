"""The data files shipped inside the package (see data/PROVENANCE.md)."""

from __future__ import annotations

import json
from importlib.resources import as_file, files
from typing import Any

from xiuhua.platform.tabular import Row, read_table

DIVISIONS = "geo/kaifeng_divisions_nbs2023.csv"
DIRECTORY = "standards/gb47678_5_2026_directory.csv"
DEFAULT_STANDARDS = "standards/case_standards_default.csv"
DEPARTMENTS = "org/kaifeng_departments.csv"
DEMO_GEOMETRY = "geo/kaifeng_demo_divisions.geojson"


def read(name: str) -> list[Row]:
    """Rows of one package data file, by its path under xiuhua/data."""
    with as_file(files("xiuhua").joinpath("data", name)) as path:
        return read_table(path)


def read_features(name: str) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection shipped in the package."""
    text = files("xiuhua").joinpath("data", name).read_text(encoding="utf-8")
    features: list[dict[str, Any]] = json.loads(text)["features"]
    return features
