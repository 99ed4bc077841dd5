"""Benchmark: frames per second per core for detection and for plate reading, and plate accuracy.

Plate accuracy on the labelled set tests/data/plates (120 synthetic blue/yellow/green plates with perspective,
blur, noise and lighting): the pipeline (corners, rectification, several views, format-constrained decoding)
against the bundled models used alone (detector box crop + one greedy decode), both fed as the package feeds
them (aspect kept) and stretched; same images, same run. Speeds are single-threaded (one core): detection on
the demo camera frames (800x450), plate reading per plate image. With `--device auto` (the default)
onnxruntime's CUDAExecutionProvider is used when it is installed and a GPU is present; `providers_used`
says which. Goal (issue 9): at least the best bundled reader's accuracy at 5 frames per second or more
per core.

Run: python bench/vision.py [--device auto|cpu|cuda] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import cv2

from xiuhua.video.adapters.vision.detectors import (
    ForegroundDetector,
    ForegroundOptions,
    PlateVehicleDetector,
    PlateVehicleOptions,
)
from xiuhua.video.adapters.vision.pipeline import packaged_video
from xiuhua.video.adapters.vision.plates import ClpOptions, ClpPlateReader, PlainOptions, RecognizerOnlyReader

ROOT = Path(__file__).resolve().parents[1]
PLATES = ROOT / "tests" / "data" / "plates"


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def run(device: str, repeat: int) -> dict[str, object]:
    labels = list(csv.DictReader((PLATES / "labels.csv").open(encoding="utf-8")))
    images = [cv2.imread(str(PLATES / r["file"])) for r in labels]
    readers = {
        "pipeline": ClpPlateReader(ClpOptions(device=device)),
        "alone_stretched": RecognizerOnlyReader(PlainOptions(device=device)),
        "alone_as_packaged": RecognizerOnlyReader(PlainOptions(device=device, keep_aspect=True)),
    }
    used = readers["pipeline"].recognizer.session.get_providers()
    result: dict[str, object] = {"device": device, "providers_used": used, "plates": len(images)}
    for name, reader in readers.items():
        reader.read(images[0])  # warm-up: session start and memory arenas
        best, texts = float("inf"), []
        for _ in range(repeat):
            started = time.perf_counter()
            texts = [(r[0].text if (r := reader.read(img)) else "") for img in images]
            best = min(best, time.perf_counter() - started)
        correct = sum(t == row["text"] for t, row in zip(texts, labels, strict=True))
        result[name] = {
            "accuracy": round(correct / len(labels), 4),
            "correct": correct,
            "plates_per_s_per_core": round(per_second(len(images), best), 1),
        }
    video = packaged_video() / "frames"
    frames = [cv2.imread(str(p)) for p in sorted((video / "KF-CAM-001").glob("*.jpg"))]
    detectors = {
        "plate_vehicles": PlateVehicleDetector(PlateVehicleOptions(device=device)),
        "foreground": ForegroundDetector(ForegroundOptions(background=str(video / "KF-CAM-001_background.jpg"))),
    }
    for name, detector in detectors.items():
        detector.detect(frames[0])
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for f in frames:
                detector.detect(f)
            best = min(best, time.perf_counter() - started)
        result[f"detect_{name}"] = {"frames_per_s_per_core": round(per_second(len(frames), best), 1)}
    # the whole pipeline on a frame with two parked cars: detection plus reading each plate
    reader = readers["pipeline"]
    busy = frames[6]
    started = time.perf_counter()
    for _ in range(repeat * 3):
        for d in detectors["plate_vehicles"].detect(busy):
            x1, y1, x2, y2 = d.box
            reader.read(busy[y1:y2, x1:x2])
    result["frame_with_two_plates"] = {
        "frames_per_s_per_core": round(per_second(repeat * 3, time.perf_counter() - started), 1)
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: CUDA when present")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # per-core figures: OpenCV and onnxruntime (threads=1 in our sessions) on one core
    result = run(args.device, args.repeat)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    pipeline, alone = result["pipeline"], result["alone_stretched"]
    assert isinstance(pipeline, dict) and isinstance(alone, dict)
    fps = result["frame_with_two_plates"]
    assert isinstance(fps, dict)
    ok = pipeline["accuracy"] >= alone["accuracy"] and fps["frames_per_s_per_core"] >= 5
    print("goal met" if ok else "goal NOT met", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
