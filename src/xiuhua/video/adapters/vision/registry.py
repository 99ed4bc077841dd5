"""Short names of the vision providers -> dotted paths; config may name either, so external packages plug in."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pydantic import ValidationError

from xiuhua.video.adapters.vision.base import Detector, DetectorConfigError, PlateReader

REGISTRY: dict[str, dict[str, str]] = {
    "detector": {
        "hog_people": "xiuhua.video.adapters.vision.detectors.HogPeopleDetector",
        "foreground": "xiuhua.video.adapters.vision.detectors.ForegroundDetector",
        "plate_vehicles": "xiuhua.video.adapters.vision.detectors.PlateVehicleDetector",
        "onnx_yolo": "xiuhua.video.adapters.vision.detectors.OnnxYoloDetector",
        "composite": "xiuhua.video.adapters.vision.detectors.CompositeDetector",
        "fake": "xiuhua.video.adapters.vision.detectors.FakeDetector",
    },
    "plate_reader": {
        "clp": "xiuhua.video.adapters.vision.plates.ClpPlateReader",
        "clp_plain": "xiuhua.video.adapters.vision.plates.RecognizerOnlyReader",
        "fake": "xiuhua.video.adapters.vision.plates.FakePlateReader",
    },
}


def _load(kind: str, base: type[Detector] | type[PlateReader], name: str, options: dict[str, Any] | None) -> Any:
    path = REGISTRY[kind].get(name, name)
    module, _, attr = path.rpartition(".")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DetectorConfigError("vision.unknown_provider", f"未知的视觉组件“{name}”") from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise DetectorConfigError(
            "vision.unknown_provider", f"“{name}”不是{'检测器' if kind == 'detector' else '车牌识别器'}"
        )
    try:
        validated = cls.Options.model_validate(options or {})
    except ValidationError as exc:
        raise DetectorConfigError(
            "vision.bad_options", f"视觉组件“{name}”的配置无效：{exc.errors()[0]['msg']}"
        ) from exc
    return cls(validated)  # type: ignore[call-arg]  # subclasses take their validated Options


def load_detector(name: str, options: dict[str, Any] | None = None) -> Detector:
    """A detector by short name or dotted path; raises DetectorConfigError."""
    detector: Detector = _load("detector", Detector, name, options)
    return detector


def load_plate_reader(name: str = "clp", options: dict[str, Any] | None = None) -> PlateReader:
    """A plate reader by short name or dotted path; raises DetectorConfigError."""
    reader: PlateReader = _load("plate_reader", PlateReader, name, options)
    return reader
