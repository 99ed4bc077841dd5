"""Evidence files (photos, frames) cleaned and stored by content hash under a folder; the hash goes into the log."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.evidence import MAX_BYTES, StoredFile, sniff_image
from xiuhua.platform.images import clean_image


class FileEvidenceStore:
    """The only way photos are stored: whatever the caller (API, Open311, command line, video), `put` keeps
    the picture rebuilt by `clean_image`, never the bytes it was given, so no metadata reaches the store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> StoredFile:
        """Clean, then store once by the SHA-256 of the cleaned bytes; bytes already stored are kept as they are.

        Raises InvalidInputError: evidence.empty, evidence.too_large, and those of clean_image.
        """
        if not data:
            raise InvalidInputError("evidence.empty", "文件为空")
        if len(data) > MAX_BYTES:
            raise InvalidInputError("evidence.too_large", f"文件超过 {MAX_BYTES // 1024 // 1024} MB")
        digest = hashlib.sha256(data).hexdigest()
        if not self.path(digest).exists():  # a stored file is clean already: cleaning a JPEG again would alter it
            data = clean_image(data)
            digest = hashlib.sha256(data).hexdigest()
            path = self.path(digest)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
                tmp.write_bytes(data)
                tmp.replace(path)
        return StoredFile(digest, sniff_image(data), len(data))

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if not path.exists():
            raise InvalidInputError("evidence.not_found", f"找不到文件 {sha256}")
        return path.read_bytes()
