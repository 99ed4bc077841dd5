"""Vision providers: plugins of the entry-point groups ``xiuhua.detectors`` and ``xiuhua.plate_readers``;
config names one or gives a dotted path, so external packages plug in."""

from __future__ import annotations

from typing import Any

from xiuhua.platform.plugins import PluginKind
from xiuhua.video.adapters.vision.base import Detector, DetectorConfigError, PlateReader

DETECTORS: PluginKind[Detector] = PluginKind(
    "xiuhua.detectors", Detector, DetectorConfigError, "vision", "视觉组件", "检测器"
)
"""Registered in pyproject.toml: hog_people, foreground, plate_vehicles, onnx_yolo, composite, fake."""
PLATE_READERS: PluginKind[PlateReader] = PluginKind(
    "xiuhua.plate_readers", PlateReader, DetectorConfigError, "vision", "视觉组件", "车牌识别器"
)
"""Registered in pyproject.toml: clp, clp_plain, fake."""


def load_detector(name: str, options: dict[str, Any] | None = None) -> Detector:
    """A detector by short name or dotted path; raises DetectorConfigError."""
    return DETECTORS.load(name, options)


def load_plate_reader(name: str = "clp", options: dict[str, Any] | None = None) -> PlateReader:
    """A plate reader by short name or dotted path; raises DetectorConfigError."""
    return PLATE_READERS.load(name, options)
