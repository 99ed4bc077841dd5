"""Evidence (photos, frames): identified by the SHA-256 of their bytes, typed by their content."""

from __future__ import annotations

from dataclasses import dataclass

from xiuhua.kernel.errors import InvalidInputError

MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


def sniff_image(data: bytes) -> str:
    """The image type read from the bytes themselves; raises InvalidInputError for anything else."""
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidInputError("evidence.bad_type", "只接受 JPEG、PNG 或 WebP 图片")
