"""Render the labelled set of synthetic Chinese plate images kept in tests/data/plates.

Plates follow the GA 36-2018 layouts (blue and yellow 7-character plates, green new-energy 8-character plates)
drawn with a CJK font, then photographed in software: perspective, blur, noise and lighting. Run:

    python tools/render_plates.py [--font /usr/share/fonts/truetype/wqy/wqy-microhei.ttc] [--out tests/data/plates]

The output is deterministic for a given seed and font; the images are committed, so tests never need the font.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
MM = 0.6  # pixels per millimetre of the flat plate

# colour: (background BGR-free RGB, text RGB)
STYLE = {
    "blue": ((18, 62, 168), (245, 245, 245)),
    "yellow": ((236, 184, 20), (15, 15, 15)),
    "green": ((110, 200, 120), (15, 15, 15)),
}


def random_text(color: str, rng: random.Random) -> str:
    """A plate number that passes the format check for its colour."""
    province, issuer = rng.choice(PROVINCES), rng.choice(LETTERS)
    if color == "green":
        if rng.random() < 0.8:  # small new-energy car: D/F, a letter or digit, then four digits
            return (
                province + issuer + rng.choice("DF") + rng.choice(LETTERS + DIGITS) + "".join(rng.choices(DIGITS, k=4))
            )
        return province + issuer + "".join(rng.choices(DIGITS, k=5)) + rng.choice("DF")
    body = [rng.choice(LETTERS + DIGITS + DIGITS) for _ in range(5)]
    if color == "yellow" and rng.random() < 0.15:
        body[-1] = "学"
    return province + issuer + "".join(body)


def flat_plate(text: str, color: str, font_path: Path) -> Image.Image:
    """The plate face as a flat RGB image, per GA 36-2018 proportions."""
    background, ink = STYLE[color]
    width_mm = 480 if len(text) == 8 else 440
    size = (round(width_mm * MM), round(140 * MM))
    plate = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(plate)
    if color == "green":  # new-energy plates fade from green at the bottom to white at the top
        for y in range(size[1]):
            t = y / size[1]
            shade = tuple(round(255 * (1 - t) * 0.75 + c * (0.25 + 0.75 * t)) for c in background)
            draw.line([(0, y), (size[0], y)], fill=shade)
    draw.rectangle([2, 2, size[0] - 3, size[1] - 3], outline=ink, width=2)
    char_w, gap, dot_gap = (43, 9, 49) if len(text) == 8 else (45, 12, 34)
    x = 15.5
    font = ImageFont.truetype(str(font_path), 96)
    for i, ch in enumerate(text):
        glyph = Image.new("L", (120, 120), 0)
        ImageDraw.Draw(glyph).text((60, 60), ch, font=font, fill=255, anchor="mm")
        box = glyph.getbbox() or (0, 0, 120, 120)
        glyph = glyph.crop(box).resize((round(char_w * MM), round(90 * MM)))
        plate.paste(Image.new("RGB", glyph.size, ink), (round(x * MM), round(25 * MM)), glyph)
        x += char_w + (dot_gap if i == 1 else gap)
        if i == 1:
            cx, cy = round((x - dot_gap / 2 - gap / 2) * MM), round(70 * MM)
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=ink)
    return plate


def photograph(plate: Image.Image, rng: random.Random, np_rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Put the plate on a car body under a random perspective, blur, noise and light; returns BGR and a tag."""
    face = cv2.cvtColor(np.asarray(plate), cv2.COLOR_RGB2BGR)
    h, w = face.shape[:2]
    canvas_w, canvas_h = w + 80, h + 70
    body = np.array([rng.randint(20, 230) for _ in range(3)], dtype=np.uint8)
    canvas = np.full((canvas_h, canvas_w, 3), body, dtype=np.uint8)
    tags = []
    skew = rng.choice([0.0, 0.0, 0.08, 0.15])
    if skew:
        tags.append("perspective")
    dx, dy = skew * w, skew * h
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    ox, oy = 40 + rng.uniform(-10, 10), 35 + rng.uniform(-10, 10)
    dst = np.float32(
        [
            [ox + rng.uniform(-dx, dx), oy + rng.uniform(-dy, dy)],
            [ox + w + rng.uniform(-dx, dx), oy + rng.uniform(-dy, dy)],
            [ox + w + rng.uniform(-dx, dx), oy + h + rng.uniform(-dy, dy)],
            [ox + rng.uniform(-dx, dx), oy + h + rng.uniform(-dy, dy)],
        ]
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(face, matrix, (canvas_w, canvas_h))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (canvas_w, canvas_h))
    canvas[mask > 0] = warped[mask > 0]
    image = canvas.astype(np.float32)
    if rng.random() < 0.4:
        k = rng.choice([3, 5])
        image = cv2.GaussianBlur(image, (k, k), 0)
        tags.append("blur")
    if rng.random() < 0.4:
        image += np_rng.normal(0, rng.uniform(6, 14), image.shape)
        tags.append("noise")
    if rng.random() < 0.3:
        image *= rng.uniform(0.55, 1.3)
        tags.append("light")
    scale = rng.uniform(0.6, 1.0)  # plates photographed from further away
    image = cv2.resize(np.clip(image, 0, 255).astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image, "+".join(tags) or "clean"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, default=FONT)
    parser.add_argument("--out", type=Path, default=Path("tests/data/plates"))
    parser.add_argument("--count", type=int, default=40, help="images per colour")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    rng, np_rng = random.Random(args.seed), np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for color in STYLE:
        for i in range(args.count):
            text = random_text(color, rng)
            image, tag = photograph(flat_plate(text, color, args.font), rng, np_rng)
            name = f"{color}_{i:03d}.jpg"
            cv2.imwrite(str(args.out / name), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            rows.append({"file": name, "text": text, "color": color, "conditions": tag})
    with (args.out / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "text", "color", "conditions"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} plates -> {args.out}")


if __name__ == "__main__":
    main()
