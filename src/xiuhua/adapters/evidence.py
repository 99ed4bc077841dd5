"""Evidence files (photos, frames) stored by content hash under a folder; the hash goes into the log."""

from __future__ import annotations

import hashlib
from pathlib import Path

from xiuhua.domain.errors import InvalidInputError
from xiuhua.domain.evidence import MAX_BYTES, StoredFile, sniff_image


class FileEvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> StoredFile:
        """Store once by SHA-256 (idempotent); raises InvalidInputError for empty, oversized or non-image data."""
        if not data:
            raise InvalidInputError("evidence.empty", "文件为空")
        if len(data) > MAX_BYTES:
            raise InvalidInputError("evidence.too_large", f"文件超过 {MAX_BYTES // 1024 // 1024} MB")
        content_type = sniff_image(data)
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return StoredFile(digest, content_type, len(data))

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if not path.exists():
            raise InvalidInputError("evidence.not_found", f"找不到文件 {sha256}")
        return path.read_bytes()
