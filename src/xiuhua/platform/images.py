"""Photos as received (phones, partners, the command line): checked to be a whole picture, then rebuilt.

The cleaned file is written anew from the decoded pixels of the first frame, so no byte of the upload survives
that is not the picture: metadata blocks (EXIF with GPS and camera, XMP, IPTC, comments, PNG text and private
chunks), second pictures of multi-picture and motion photos, animation frames and anything after the end of
the image are all gone. What is kept:

- the format: JPEG stays JPEG (quality 92), PNG stays PNG (lossless: the same pixel values), WebP stays WebP
  (lossless when the upload was, else quality 92);
- the EXIF orientation, as the only EXIF tag, so that the pixels are not re-sampled a second time and viewers
  turn the picture upright as they did before; a picture without one gets no EXIF at all;
- colour: an embedded ICC profile is applied (the pixels are converted to sRGB) rather than carried, since a
  profile is free-form data; a profile that cannot be read is dropped and the pixels kept as they are.

Refused with InvalidInputError: anything but JPEG, PNG or WebP (evidence.bad_type), more than MAX_PIXELS
pixels (evidence.too_many_pixels, read from the header before decoding), and files whose format does not
match their signature or that fail to decode in full (evidence.corrupt).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageCms

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.evidence import sniff_image

ORIENTATION = 0x0112
MAX_PIXELS = 80_000_000
JPEG_QUALITY = 92
_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/webp": ("WEBP",)}
_PNG_MODES = {"1", "L", "LA", "RGB", "RGBA", "I", "I;16"}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def clean_image(data: bytes) -> bytes:
    """The picture rebuilt from its first frame's pixels and orientation; raises InvalidInputError."""
    content_type = sniff_image(data)
    pixels, orientation, icc = _decode(data, _FORMATS[content_type])
    pixels = _to_srgb(pixels, icc)
    exif = Image.Exif()
    if orientation not in (None, 1):
        exif[ORIENTATION] = orientation
    exif_bytes = exif.tobytes() if len(exif) else b""
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if pixels.mode not in ("L", "RGB"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=JPEG_QUALITY, exif=exif_bytes)
    elif content_type == "image/png":
        if pixels.mode not in _PNG_MODES or "transparency" in pixels.info:
            pixels = pixels.convert("RGBA" if _has_alpha(pixels) else "RGB")
        pixels.save(out, "PNG", exif=exif_bytes)
    else:
        pixels = pixels.convert("RGBA" if _has_alpha(pixels) else "RGB")
        lossless = _is_lossless_webp(data)
        pixels.save(out, "WEBP", lossless=lossless, quality=100 if lossless else JPEG_QUALITY, exif=exif_bytes)
    return out.getvalue()


def _decode(data: bytes, formats: tuple[str, ...]) -> tuple[Image.Image, int | None, bytes | None]:
    """The first frame as a new image without any of the file's info, its orientation and ICC profile."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(formats)) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise _too_many_pixels()
                orientation = _orientation(im)
                icc = im.info.get("icc_profile")
                im.seek(0)
                im.load()  # decodes the whole frame: a truncated or forged file fails here
                # a new image holds the pixels (and a palette) only: nothing of the file's info comes along
                pixels = im.copy()
                transparency = im.info.get("transparency")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except InvalidInputError:
        raise
    except Exception:
        raise InvalidInputError("evidence.corrupt", "图片已损坏或无法解码") from None
    pixels.info = {} if transparency is None else {"transparency": transparency}
    return pixels, orientation, icc if isinstance(icc, bytes) and icc else None


def _orientation(im: Image.Image) -> int | None:
    """The EXIF orientation (1-8), or None where there is none or the EXIF block cannot be read."""
    try:
        value = im.getexif().get(ORIENTATION)
    except Exception:  # a damaged EXIF block loses the orientation, not the photo
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _to_srgb(pixels: Image.Image, icc: bytes | None) -> Image.Image:
    """The pixels converted from their embedded profile to sRGB; unchanged without a usable profile."""
    if icc is None or pixels.mode not in ("RGB", "RGBA", "CMYK"):
        return pixels
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if pixels.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(pixels, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return pixels
    assert converted is not None  # inPlace=False always returns the new image
    converted.info = {}
    return converted


def _has_alpha(pixels: Image.Image) -> bool:
    return "A" in pixels.mode or "transparency" in pixels.info


def _is_lossless_webp(data: bytes) -> bool:
    """Whether a WebP's (first) picture is VP8L, the lossless coding: in a simple, extended or animated file."""
    i, end = 12, len(data)
    while i + 8 <= end:
        kind, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        if kind == b"ANMF":  # an animation frame: 16 bytes of placement, then the frame's own chunks
            i, end = i + 8 + 16, min(end, i + 8 + size)
            continue
        i += 8 + size + (size & 1)
    return False


def _too_many_pixels() -> InvalidInputError:
    return InvalidInputError("evidence.too_many_pixels", f"图片像素过多（上限 {MAX_PIXELS // 1_000_000} 百万像素）")
