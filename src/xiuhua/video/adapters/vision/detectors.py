"""Bundled detectors. All run on the CPU with what ships in the installed packages or the repository:

- `hog_people`: OpenCV's HOG + linear SVM pedestrian detector (built into OpenCV).
- `foreground`: objects that differ from the camera's empty-scene reference image (stalls, goods, people).
- `plate_vehicles`: vehicles located by their number plates (the landmark plate detector, data/models/clp).
- `onnx_yolo`: any YOLO-style ONNX model a city supplies (a stronger detector; GPU when present).
- `composite`: several of the above at once.
- `fake`: reads detections from a JSON file beside each frame (development and tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from xiuhua.video.adapters.vision.base import (
    Detection,
    Detector,
    DetectorConfigError,
    FrameSourceError,
    Image,
    ProviderOptions,
)
from xiuhua.video.adapters.vision.onnx import session
from xiuhua.video.adapters.vision.plates import ClpDetector


class HogOptions(ProviderOptions):
    min_score: float = 0.3
    scale: float = 1.05


class HogPeopleDetector(Detector):
    name: ClassVar[str] = "hog_people"
    labels: ClassVar[frozenset[str]] = frozenset({"person"})
    Options = HogOptions

    def __init__(self, options: HogOptions | None = None) -> None:
        self.options = options or HogOptions()
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))

    def detect(self, frame: Image) -> list[Detection]:
        boxes, weights = self.hog.detectMultiScale(frame, winStride=(8, 8), padding=(8, 8), scale=self.options.scale)
        return [
            Detection("person", (int(x), int(y), int(x + w), int(y + h)), float(s))
            for (x, y, w, h), s in zip(boxes, np.ravel(weights), strict=True)
            if s >= self.options.min_score
        ]


class ForegroundOptions(ProviderOptions):
    background: str
    """Path of the camera's empty-scene reference image."""
    threshold: int = 40
    min_area: int = 400
    label: str = "object"


class ForegroundDetector(Detector):
    """Blobs that differ from the reference: what occupies a zone, whatever it is."""

    name: ClassVar[str] = "foreground"
    labels: ClassVar[frozenset[str]] = frozenset({"object"})
    Options = ForegroundOptions

    def __init__(self, options: ForegroundOptions) -> None:
        self.options = options
        reference = cv2.imread(options.background)
        if reference is None:
            raise DetectorConfigError("vision.bad_background", f"无法读取背景图 {options.background}")
        self.reference = cv2.GaussianBlur(cv2.cvtColor(reference, cv2.COLOR_BGR2GRAY), (5, 5), 0)

    def detect(self, frame: Image) -> list[Detection]:
        gray = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        if gray.shape != self.reference.shape:
            raise FrameSourceError("vision.frame_size", "画面尺寸与背景图不一致")
        diff = cv2.absdiff(gray, self.reference)
        _, mask = cv2.threshold(diff, self.options.threshold, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out = []
        for c in contours:
            if cv2.contourArea(c) < self.options.min_area:
                continue
            x, y, w, h = cv2.boundingRect(c)
            out.append(Detection(self.options.label, (x, y, x + w, y + h), 1.0))
        return out


class PlateVehicleOptions(ProviderOptions):
    device: str = "auto"
    min_score: float = 0.5
    max_side: int = 640


class PlateVehicleDetector(Detector):
    """A vehicle box grown from each plate (a car is about 4 plates wide; the plate sits low on its back)."""

    name: ClassVar[str] = "plate_vehicles"
    labels: ClassVar[frozenset[str]] = frozenset({"vehicle"})
    Options = PlateVehicleOptions

    def __init__(self, options: PlateVehicleOptions | None = None) -> None:
        self.options = options or PlateVehicleOptions()
        self.plates = ClpDetector(device=self.options.device, max_side=self.options.max_side)

    def detect(self, frame: Image) -> list[Detection]:
        h, w = frame.shape[:2]
        out = []
        for p in self.plates.detect(frame, self.options.min_score):
            x1, y1, x2, y2 = p.box
            pw, ph = x2 - x1, y2 - y1
            cx = (x1 + x2) / 2
            box = (
                max(0, int(cx - 1.6 * pw)),
                max(0, int(y1 - 4 * ph)),
                min(w, int(cx + 1.6 * pw)),
                min(h, int(y2 + 1.5 * ph)),
            )
            out.append(Detection("vehicle", box, p.score))
        return out


class YoloOptions(ProviderOptions):
    model: str
    labels: dict[int, str]
    """Model class index -> label, e.g. {0: "person", 2: "vehicle"}; other classes are ignored."""
    input_size: int = 640
    min_score: float = 0.4
    device: str = "auto"


class OnnxYoloDetector(Detector):
    """YOLOv5/v8-style ONNX output ([1, N, 5+C] or [1, 4+C, N]), letterboxed input, NMS by OpenCV."""

    name: ClassVar[str] = "onnx_yolo"
    labels: ClassVar[frozenset[str]] = frozenset({"person", "vehicle", "goods"})
    Options = YoloOptions

    def __init__(self, options: YoloOptions) -> None:
        self.options = options
        self.session = session(options.model, options.device, 1)

    def detect(self, frame: Image) -> list[Detection]:
        size = self.options.input_size
        h, w = frame.shape[:2]
        scale = size / max(h, w)
        canvas = np.full((size, size, 3), 114, np.uint8)
        canvas[: round(h * scale), : round(w * scale)] = cv2.resize(frame, (round(w * scale), round(h * scale)))
        blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        (out,) = self.session.run(None, {self.session.get_inputs()[0].name: blob})[:1]
        pred = out[0]
        if pred.shape[0] < pred.shape[1]:  # v8 layout: 4+C rows
            pred = pred.T
            boxes, scores = pred[:, :4], pred[:, 4:]
        else:
            boxes, scores = pred[:, :4], pred[:, 5:] * pred[:, 4:5]
        cls, best = scores.argmax(axis=1), scores.max(axis=1)
        keep = [i for i in np.where(best >= self.options.min_score)[0] if int(cls[i]) in self.options.labels]
        rects = [
            [
                float(boxes[i, 0] - boxes[i, 2] / 2),
                float(boxes[i, 1] - boxes[i, 3] / 2),
                float(boxes[i, 2]),
                float(boxes[i, 3]),
            ]
            for i in keep
        ]
        chosen = cv2.dnn.NMSBoxes(rects, [float(best[i]) for i in keep], self.options.min_score, 0.45) if keep else []
        out_dets = []
        for j in np.ravel(chosen):
            x, y, bw, bh = (v / scale for v in rects[int(j)])
            i = keep[int(j)]
            out_dets.append(
                Detection(self.options.labels[int(cls[i])], (int(x), int(y), int(x + bw), int(y + bh)), float(best[i]))
            )
        return out_dets


class CompositeOptions(ProviderOptions):
    detectors: list[dict[str, Any]]
    """Each {"name": ..., "options": {...}} as `registry.load` takes them."""


class CompositeDetector(Detector):
    name: ClassVar[str] = "composite"
    labels: ClassVar[frozenset[str]] = frozenset()
    Options = CompositeOptions

    def __init__(self, options: CompositeOptions) -> None:
        from xiuhua.video.adapters.vision.registry import load_detector  # the registry imports this module

        self.parts = [load_detector(d["name"], d.get("options")) for d in options.detectors]

    def detect(self, frame: Image) -> list[Detection]:
        return [d for part in self.parts for d in part.detect(frame)]


class FakeOptions(ProviderOptions):
    pass


class FakeDetector(Detector):
    """Detections read from `<frame>.json` ([{"label", "box": [x1, y1, x2, y2], "score"}]); set `path` first."""

    name: ClassVar[str] = "fake"
    labels: ClassVar[frozenset[str]] = frozenset({"person", "vehicle", "goods", "object"})
    Options = FakeOptions

    def __init__(self, options: FakeOptions | None = None) -> None:
        self.path: Path | None = None

    def detect(self, frame: Image) -> list[Detection]:
        sidecar = self.path.with_suffix(".json") if self.path else None
        if sidecar is None or not sidecar.exists():
            return []
        items = json.loads(sidecar.read_text(encoding="utf-8"))
        return [Detection(i["label"], (*map(int, i["box"][:4]),), float(i.get("score", 1.0))) for i in items]  # type: ignore[arg-type]
