"""The services' Vision port over a detector and a plate reader."""

from __future__ import annotations

import json
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from xiuhua.video.adapters.vision.base import Detection, Detector, FrameSourceError, Image, PlateRead, PlateReader
from xiuhua.video.adapters.vision.frames import encode_jpeg
from xiuhua.video.adapters.vision.registry import load_detector, load_plate_reader


class OpenCvVision:
    def __init__(self, detector: Detector, reader: PlateReader) -> None:
        self.detector = detector
        self.reader = reader

    def detect(self, image: Image) -> list[Detection]:
        return self.detector.detect(image)

    def read_plate(self, image: Image, box: tuple[int, int, int, int]) -> tuple[PlateRead | None, bytes]:
        """The best plate inside the box (with some context around it) and the JPEG of its rectified crop."""
        x1, y1, x2, y2 = box
        h, w = image.shape[:2]
        pad_x, pad_y = (x2 - x1) // 4, (y2 - y1) // 4
        region = (max(0, x1 - pad_x), max(0, y1 - pad_y), min(w, x2 + pad_x), min(h, y2 + pad_y))
        cut = image[region[1] : region[3], region[0] : region[2]]
        reads = self.reader.read(cut) if cut.size else []
        if not reads:
            return None, encode_jpeg(image, box)
        best = reads[0]
        return best, encode_jpeg(best.crop) if best.crop is not None else encode_jpeg(image, box)

    def encode(self, image: Image, box: tuple[int, int, int, int] | None = None) -> bytes:
        return encode_jpeg(image, box)


def packaged_video() -> Path:
    """The folder of the demo cameras' definitions and recorded frames."""
    with as_file(files("xiuhua").joinpath("data", "video")) as path:
        return Path(path)


def load_camera_file(path: Path) -> list[dict[str, Any]]:
    """Camera definitions (JSON list); `source` and `background` are made absolute against the file's folder."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FrameSourceError("camera.bad_file", f"无法读取摄像头定义文件 {path}：{exc}") from exc
    if not isinstance(items, list):
        raise FrameSourceError("camera.bad_file", "摄像头定义文件应为 JSON 数组")
    for item in items:
        for key in ("source", "background"):
            if isinstance(item, dict) and item.get(key) and "://" not in item[key]:
                item[key] = str((path.parent / item[key]).resolve())
    return items


def vision_for(definition: dict[str, Any], device: str = "auto") -> OpenCvVision:
    """The camera's detector (its `detector` block, else plates for vehicles plus its empty-scene reference for
    anything else) and the plate reader."""
    spec = definition.get("detector")
    if spec is None:
        parts: list[dict[str, Any]] = [{"name": "plate_vehicles", "options": {"device": device}}]
        if definition.get("background"):
            parts.append({"name": "foreground", "options": {"background": definition["background"]}})
        spec = {"name": "composite", "options": {"detectors": parts}}
    return OpenCvVision(load_detector(spec["name"], spec.get("options")), load_plate_reader("clp", {"device": device}))
