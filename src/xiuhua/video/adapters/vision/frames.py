"""Frame sources through OpenCV: one image file, a folder of snapshots, or a video file or stream."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2

from xiuhua.video.adapters.vision.base import FrameSourceError, Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov"}
STAMP = re.compile(r"(\d{8}T\d{6})")


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image
    taken_at: datetime
    path: Path | None = None


def read_image(path: Path) -> Image:
    """A BGR image from a file; raises FrameSourceError."""
    image = cv2.imread(str(path))
    if image is None:
        raise FrameSourceError("vision.bad_image", f"无法读取图片 {path}", path=str(path))
    return image  # type: ignore[return-value]


def _stamp(path: Path) -> datetime | None:
    """A snapshot's time from its name, e.g. cam01_20260303T091500.jpg (UTC)."""
    m = STAMP.search(path.stem)
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if m else None


def frames(source: str, start: datetime | None = None, every_s: float = 1.0) -> Iterator[Frame]:
    """Frames in time order. Snapshot times come from their names, else from `start` + `every_s` each;
    a video's come from its timeline. Raises FrameSourceError."""
    start = start or datetime.now(UTC)
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FrameSourceError("vision.empty_folder", f"文件夹 {path} 中没有图片", path=source)
        for i, p in enumerate(files):
            yield Frame(read_image(p), _stamp(p) or start + timedelta(seconds=i * every_s), p)
        return
    if path.suffix.lower() in IMAGE_SUFFIXES:
        if not path.exists():
            raise FrameSourceError("vision.not_found", f"文件不存在：{path}", path=source)
        yield Frame(read_image(path), _stamp(path) or start, path)
        return
    if not path.exists() and "://" not in source:
        raise FrameSourceError("vision.not_found", f"文件不存在：{path}", path=source)
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise FrameSourceError("vision.bad_stream", f"无法打开视频 {source}", path=source)
    try:
        step = max(1, round((capture.get(cv2.CAP_PROP_FPS) or 1.0) * every_s))
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            if index % step == 0:
                offset = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                yield Frame(image, start + timedelta(seconds=offset), None)  # type: ignore[arg-type]
            index += 1
    finally:
        capture.release()


def encode_jpeg(image: Image, box: tuple[int, int, int, int] | None = None, quality: int = 85) -> bytes:
    """JPEG bytes of an image or of a box cut from it."""
    if box is not None:
        x1, y1, x2, y2 = box
        image = image[max(0, y1) : max(y1 + 1, y2), max(0, x1) : max(x1 + 1, x2)]
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FrameSourceError("vision.encode_failed", "图片编码失败")
    return data.tobytes()
