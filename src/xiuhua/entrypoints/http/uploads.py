"""Photos as received from phones: checked to be a whole image, stripped of every metadata block (GPS,
camera, owner, comments) except the orientation, without re-encoding JPEG or PNG pixels."""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image

from xiuhua.domain.errors import InvalidInputError
from xiuhua.domain.evidence import sniff_image

ORIENTATION = 0x0112
# JPEG segments kept: APP0 (JFIF), APP2 (ICC colour profile), APP14 (Adobe colour transform); the other
# APPn blocks (EXIF, XMP, IPTC…) and comments are dropped.
_KEEP_APP = {0xE0, 0xE2, 0xEE}
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
MAX_PIXELS = 80_000_000


def clean_image(data: bytes) -> bytes:
    """The image without metadata but its orientation; raises InvalidInputError for non-images or damage."""
    content_type = sniff_image(data)
    orientation = _check_and_orientation(data)
    if content_type == "image/jpeg":
        return _clean_jpeg(data, orientation)
    if content_type == "image/png":
        return _clean_png(data)
    return _clean_webp(data, orientation)


def _check_and_orientation(data: bytes) -> int | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise InvalidInputError("evidence.too_many_pixels", "图片像素过多")
                orientation = im.getexif().get(ORIENTATION)
                im.load()  # decodes every byte: a truncated or forged file fails here
    except InvalidInputError:
        raise
    except Exception:
        raise InvalidInputError("evidence.corrupt", "图片已损坏或无法解码") from None
    return int(orientation) if isinstance(orientation, int) and 1 <= orientation <= 8 else None


def _orientation_app1(orientation: int | None) -> bytes:
    if orientation is None or orientation == 1:
        return b""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _clean_jpeg(data: bytes, orientation: int | None) -> bytes:
    out = [b"\xff\xd8", _orientation_app1(orientation)]
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise InvalidInputError("evidence.corrupt", "JPEG 结构损坏")
        while i + 1 < len(data) and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        if i + 1 >= len(data):
            break
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data to the end
            out.append(data[i:])
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > len(data):
            raise InvalidInputError("evidence.corrupt", "JPEG 结构损坏")
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if not ((0xE0 <= marker <= 0xEF and marker not in _KEEP_APP) or marker == 0xFE):
            out.append(segment)
        i += 2 + length
    return b"".join(out)


def _clean_png(data: bytes) -> bytes:
    out = [data[:8]]
    i = 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _clean_webp(data: bytes, orientation: int | None) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        buffer = io.BytesIO()
        exif = Image.Exif()
        if orientation and orientation != 1:
            exif[ORIENTATION] = orientation
        im.save(buffer, "WEBP", quality=90, exif=exif.tobytes() if len(exif) else b"")
    return buffer.getvalue()
