"""Photos are rebuilt from their pixels on upload: nothing of the file but the picture and its orientation is kept,
and the same photo handed in twice at one stage is one piece of evidence."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from tests.api.conftest import DISTRICT_DISPATCHER, SUPERVISOR, Api
from tests.api.helpers import HANDLER, case_in, png, step, upload

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825
GPS_POINT = {1: "N", 2: (34.0, 48.0, 25.0), 3: "E", 4: (114.0, 20.0, 44.0)}


def exif_bytes(make: str, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    exif[MAKE] = make
    exif[GPS] = GPS_POINT
    return exif.tobytes()


def jpeg(size: tuple[int, int] = (32, 16), color: tuple[int, int, int] = (10, 120, 30), **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=95, **params)
    return buffer.getvalue()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, i = [], 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        chunks.append((data[i + 4 : i + 8], data[i + 8 : i + 8 + length]))
        i += 12 + length
    return chunks


def stored(api: Api, data: bytes, name: str = "p.jpg", content_type: str = "image/jpeg") -> bytes:
    r = upload(api, SUPERVISOR, data, name, content_type)
    assert r.status_code == 201, r.text
    body = api.evidence.get(r.json()["sha256"])
    assert r.json()["size"] == len(body)
    return body


def test_a_second_picture_after_the_end_marker_does_not_survive(sqlite_api: Api) -> None:
    first = jpeg(exif=exif_bytes("FirstCamera", orientation=6))
    second = jpeg((8, 8), (200, 0, 0), exif=exif_bytes("SecondCamera"))  # the layout of motion / multi-picture photos
    data = stored(sqlite_api, first + second)
    assert b"FirstCamera" not in data and b"SecondCamera" not in data
    assert data.count(b"\xff\xd8") == 1 and data.endswith(b"\xff\xd9") and data.count(b"Exif\x00\x00") == 1
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (32, 16)
        assert dict(im.getexif()) == {ORIENTATION: 6} and not im.getexif().get_ifd(GPS)
        pixel = im.convert("RGB").getpixel((16, 8))
        assert isinstance(pixel, tuple) and sum(abs(a - b) for a, b in zip(pixel, (10, 120, 30), strict=True)) < 12


def test_a_multi_picture_file_keeps_only_its_first_picture(sqlite_api: Api) -> None:
    buffer = io.BytesIO()
    main = Image.new("RGB", (32, 16), (10, 120, 30))
    extra = Image.new("RGB", (8, 8), (200, 0, 0))
    main.save(buffer, "MPO", save_all=True, append_images=[extra], exif=exif_bytes("MpoCamera"))
    data = stored(sqlite_api, buffer.getvalue())
    assert b"MpoCamera" not in data and data.count(b"\xff\xd8") == 1
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (32, 16) and getattr(im, "n_frames", 1) == 1 and not im.getexif()


def test_html_after_a_jpeg_is_dropped(sqlite_api: Api) -> None:
    tail = b"<html><script>alert(document.cookie)</script></html>"
    data = stored(sqlite_api, jpeg(comment=b"<html>in a comment") + tail)
    assert b"<html" not in data.lower() and b"script" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (32, 16)


def test_png_text_exif_and_private_chunks_are_dropped_and_pixels_kept(sqlite_api: Api) -> None:
    original = Image.new("RGBA", (12, 9), (1, 2, 3, 200))
    original.putpixel((5, 4), (250, 100, 0, 7))
    info = PngInfo()
    info.add_text("Comment", "owner 13800001111")
    info.add_itxt("Author", "张三", lang="zh", tkey="作者")
    info.add(b"exIf", b"private GPS 34.80,114.34")  # a private chunk: names are case-sensitive
    buffer = io.BytesIO()
    original.save(buffer, "PNG", pnginfo=info, exif=exif_bytes("PngCamera", orientation=3))
    assert {b"tEXt", b"iTXt", b"eXIf", b"exIf"} <= {kind for kind, _ in png_chunks(buffer.getvalue())}
    data = stored(sqlite_api, buffer.getvalue(), "p.png", "image/png")
    assert b"PngCamera" not in data and b"private" not in data and b"13800001111" not in data
    kinds = [kind for kind, _ in png_chunks(data)]
    assert set(kinds) <= {b"IHDR", b"IDAT", b"IEND", b"eXIf"}
    with Image.open(io.BytesIO(data)) as im:
        assert dict(im.getexif()) == {ORIENTATION: 3}
        assert im.mode == "RGBA" and im.tobytes() == original.tobytes()  # lossless


def test_an_animated_image_keeps_its_first_frame(sqlite_api: Api) -> None:
    frames = [Image.new("RGB", (10, 10), c) for c in ((0, 0, 255), (255, 0, 0), (0, 255, 0))]
    for fmt, name, content_type in (("PNG", "a.png", "image/png"), ("WEBP", "a.webp", "image/webp")):
        buffer = io.BytesIO()
        frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
        data = stored(sqlite_api, buffer.getvalue(), name, content_type)
        with Image.open(io.BytesIO(data)) as im:
            assert getattr(im, "n_frames", 1) == 1 and not getattr(im, "is_animated", False), fmt
            assert im.convert("RGB").getpixel((5, 5)) == (0, 0, 255), fmt
        assert b"acTL" not in data and b"ANIM" not in data


def test_webp_exif_and_xmp_are_dropped_but_orientation(sqlite_api: Api) -> None:
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="34,48N"/></x:xmpmeta>'
    Image.new("RGB", (20, 10), (90, 90, 200)).save(
        buffer, "WEBP", exif=exif_bytes("WebpCamera", orientation=8), xmp=xmp, quality=95
    )
    data = stored(sqlite_api, buffer.getvalue(), "p.webp", "image/webp")
    assert b"WebpCamera" not in data and b"xmpmeta" not in data and b"XMP " not in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "WEBP" and im.size == (20, 10)
        assert dict(im.getexif()) == {ORIENTATION: 8}


def test_a_colour_profile_is_applied_not_carried(sqlite_api: Api) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = stored(sqlite_api, jpeg(icc_profile=profile))
    with Image.open(io.BytesIO(data)) as im:
        assert "icc_profile" not in im.info and im.size == (32, 16)


def test_damaged_forged_and_oversized_pictures_are_refused(sqlite_api: Api) -> None:
    whole = jpeg(exif=exif_bytes("X"))
    for data, code in (
        (whole[: len(whole) // 2], "evidence.corrupt"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "evidence.corrupt"),
        (b"\xff\xd8\xff" + png()[3:], "evidence.corrupt"),  # a PNG body behind a JPEG signature
        (b"GIF89a" + b"0" * 64, "evidence.bad_type"),
        (_png_header_only(12_000, 12_000), "evidence.too_many_pixels"),
    ):
        r = upload(sqlite_api, SUPERVISOR, data)
        assert r.status_code == 422 and r.json()["code"] == code, (code, r.text)
    assert not sqlite_api.evidence.root.exists() or not any(sqlite_api.evidence.root.rglob("*"))


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_the_same_photo_after_rework_is_the_same_evidence(api: Api) -> None:
    case_no = case_in(api, "checked_fail")
    sha = upload(api, HANDLER, png((40, 40, 40))).json()["sha256"]
    step(api, case_no, "rework", DISTRICT_DISPATCHER, reason="井盖未盖严")
    first_feedback = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()["photos"]
    step(api, case_no, "feedback", HANDLER, photos=[sha])
    step(api, case_no, "send_check", "acceptor1")
    step(api, case_no, "check_fail", SUPERVISOR, reason="仍未修好", photos=[sha])
    step(api, case_no, "rework", DISTRICT_DISPATCHER, reason="再次返工")
    r = api.act(case_no, "feedback", HANDLER, photos=[sha])  # the same photo, the same stage, a second time
    assert r.status_code == 200, r.text
    case = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    after = [p for p in case["photos"] if p["sha256"] == sha and p["stage"] == "after"]
    assert len(after) == 1 and len(case["photos"]) == len(first_feedback) + 2  # after + check, once each
    feedbacks = [e for e in case["log"] if e["action"] == "feedback"]
    assert len(feedbacks) == 3 and sha in str(feedbacks[-1])
