"""Render the synthetic street scenes of the demo cameras into src/xiuhua/data/video/frames.

Two cameras, as snapshot folders whose file names carry the capture time (UTC):

- `KF-CAM-001`: a sidewalk no-parking zone. Car 豫B6F28K stops on the sidewalk and stays past the grace
  period (a case); car 豫BD12345 (green new-energy) stops, is notified and leaves (resolved by notice);
  a third car drives through in one frame (nothing happens).
- `KF-CAM-002`: a no-vending zone on a square. A stall with goods and a vendor stays (a case); a
  passer-by crosses the zone (nothing happens).

Run: python tools/render_demo_frames.py [--font FONT]. Images are committed; the font is only needed here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_plates import FONT, flat_plate

OUT = Path("src/xiuhua/data/video/frames")
W, H = 800, 450
START = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


def street() -> np.ndarray:
    img = np.full((H, W, 3), (200, 190, 180), np.uint8)  # buildings
    cv2.rectangle(img, (0, 0), (W, 150), (170, 150, 130), -1)
    for x in range(20, W, 110):
        cv2.rectangle(img, (x, 30), (x + 70, 110), (120, 100, 90), -1)
    cv2.rectangle(img, (0, 150), (W, 300), (150, 150, 150), -1)  # sidewalk
    for x in range(0, W, 60):
        cv2.line(img, (x, 150), (x + 30, 300), (135, 135, 135), 1)
    cv2.rectangle(img, (0, 300), (W, H), (70, 70, 70), -1)  # road
    for x in range(0, W, 100):
        cv2.rectangle(img, (x, 375), (x + 50, 381), (230, 230, 230), -1)
    return img


def square() -> np.ndarray:
    img = np.full((H, W, 3), (185, 195, 200), np.uint8)
    for y in range(0, H, 45):
        cv2.line(img, (0, y), (W, y), (165, 175, 180), 1)
    for x in range(0, W, 45):
        cv2.line(img, (x, 0), (x, H), (165, 175, 180), 1)
    cv2.rectangle(img, (0, 0), (W, 90), (120, 140, 110), -1)  # a hedge
    return img


def car(img: np.ndarray, x: int, y: int, color: tuple[int, int, int], plate: str, plate_color: str, font: Path) -> None:
    """A car seen from behind, its bottom edge at y, with its plate."""
    w, h = 340, 170
    cv2.rectangle(img, (x, y - h), (x + w, y - 20), color, -1)
    cv2.rectangle(img, (x + 30, y - h - 50), (x + w - 30, y - h + 5), tuple(int(c * 0.8) for c in color), -1)
    cv2.rectangle(img, (x + 45, y - h - 40), (x + w - 45, y - h), (60, 50, 40), -1)  # rear window
    cv2.rectangle(img, (x + 10, y - 20), (x + 60, y), (20, 20, 20), -1)
    cv2.rectangle(img, (x + w - 60, y - 20), (x + w - 10, y), (20, 20, 20), -1)
    cv2.rectangle(img, (x + 10, y - h + 20), (x + 45, y - h + 45), (40, 40, 200), -1)  # lamps
    cv2.rectangle(img, (x + w - 45, y - h + 20), (x + w - 10, y - h + 45), (40, 40, 200), -1)
    face = cv2.cvtColor(np.asarray(flat_plate(plate, plate_color, font)), cv2.COLOR_RGB2BGR)
    pw = 110 if len(plate) == 7 else 120
    face = cv2.resize(face, (pw, 38), interpolation=cv2.INTER_AREA)
    px, py = x + (w - pw) // 2, y - 85
    img[py : py + 38, px : px + pw] = face


def stall(img: np.ndarray) -> None:
    cv2.rectangle(img, (300, 230), (520, 330), (40, 90, 160), -1)  # cart
    cv2.fillPoly(img, [np.array([[270, 230], [550, 230], [480, 170], [340, 170]])], (30, 30, 200))  # umbrella
    for i, c in enumerate([(0, 160, 240), (60, 200, 60), (200, 80, 200), (0, 200, 255)]):
        cv2.circle(img, (330 + i * 50, 220), 18, c, -1)  # goods
    person(img, 560, 340, (90, 60, 150))


def person(img: np.ndarray, x: int, foot_y: int, shirt: tuple[int, int, int]) -> None:
    cv2.circle(img, (x, foot_y - 150), 18, (150, 180, 220), -1)
    cv2.rectangle(img, (x - 22, foot_y - 130), (x + 22, foot_y - 60), shirt, -1)
    cv2.rectangle(img, (x - 18, foot_y - 60), (x - 4, foot_y), (60, 50, 40), -1)
    cv2.rectangle(img, (x + 4, foot_y - 60), (x + 18, foot_y), (60, 50, 40), -1)


def save(folder: Path, camera: str, at: datetime, img: np.ndarray) -> None:
    noise = np.random.default_rng(int(at.timestamp())).normal(0, 3, img.shape)
    out = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(folder / f"{camera}_{at.strftime('%Y%m%dT%H%M%S')}.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 80])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, default=FONT)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    cam1, cam2 = args.out / "KF-CAM-001", args.out / "KF-CAM-002"
    cam1.mkdir(parents=True)
    cam2.mkdir(parents=True)
    cv2.imwrite(str(args.out / "KF-CAM-001_background.jpg"), street(), [cv2.IMWRITE_JPEG_QUALITY, 80])
    cv2.imwrite(str(args.out / "KF-CAM-002_background.jpg"), square(), [cv2.IMWRITE_JPEG_QUALITY, 80])

    minute = timedelta(minutes=1)
    # camera 1: (minutes after 09:00, cars present as (x, y, colour, plate, plate colour))
    stay = (40, 285, (40, 40, 160), "豫B6F28K", "blue")
    leave = (430, 285, (160, 160, 160), "豫BD12345", "green")
    passer = (430, 290, (50, 120, 50), "豫B3M7Q1", "blue")
    timeline = [
        (0, []), (1, [stay]), (3, [stay]), (4, [stay, passer]), (6, [stay]), (8, [stay, leave]),
        (11, [stay, leave]), (14, [stay, leave]), (22, [stay, leave]), (30, [stay]),
    ]  # fmt: skip
    for m, cars in timeline:
        img = street()
        for x, y, color, plate, plate_color in cars:
            car(img, x, y, color, plate, plate_color, args.font)
        save(cam1, "KF-CAM-001", START + m * minute, img)
    # camera 2: the stall from 09:02 (a snapshot every 1-2 minutes); a passer-by crossing at 09:04-09:06
    for m in (0, 2, 4, 5, 6, 8, 10, 12, 13, 14):
        img = square()
        if m >= 2:
            stall(img)
        if m in (4, 5, 6):
            person(img, 80 + (m - 4) * 90, 420, (30, 140, 30))  # crossing into the zone, never still
        save(cam2, "KF-CAM-002", START + m * minute, img)
    total = sum(p.stat().st_size for p in args.out.rglob("*.jpg"))
    print(f"frames -> {args.out} ({total // 1024} KiB)")


if __name__ == "__main__":
    main()
