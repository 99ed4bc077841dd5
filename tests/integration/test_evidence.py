"""The evidence store cleans whatever it is given: no caller can store a photo with its metadata."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.platform.files import FileEvidenceStore


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (34.0, 48.0, 0.0), 4: (114.0, 20.0, 0.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (50, 60, 70)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_put_stores_the_cleaned_bytes_under_their_own_hash(tmp_path: Path) -> None:
    store = FileEvidenceStore(tmp_path)
    raw = gps_jpeg()
    stored = store.put(raw)
    data = store.get(stored.sha256)
    assert b"CameraMaker" not in data and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (stored.content_type, stored.size) == ("image/jpeg", len(data))
    assert stored.sha256 != hashlib.sha256(raw).hexdigest()
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif() and im.size == (16, 16)


def test_putting_a_stored_file_again_keeps_its_hash(tmp_path: Path) -> None:
    store = FileEvidenceStore(tmp_path)
    first = store.put(gps_jpeg())
    assert store.put(store.get(first.sha256)) == first  # re-encoding again would change a JPEG's bytes
    assert store.put(gps_jpeg()) == first  # the same photo cleans to the same bytes
    assert sum(1 for f in tmp_path.rglob("*") if f.is_file()) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "evidence.empty"), (b"GIF89a0000", "evidence.bad_type"), (b"\xff\xd8\xff\xe0broken", "evidence.corrupt")],
)
def test_put_refuses_what_is_not_a_whole_picture(tmp_path: Path, data: bytes, code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        FileEvidenceStore(tmp_path).put(data)
    assert caught.value.code == code
    assert not any(tmp_path.rglob("*"))
