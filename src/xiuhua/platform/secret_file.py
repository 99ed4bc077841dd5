"""A secret kept in a file only its owner may read (mode 0600), created once: every process that opens the
same file agrees on it, and a copy of the database does not carry it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


class SecretFileError(RuntimeError):
    """The secret file exists but holds nothing usable."""


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``; when the file is missing, ``make()`` written there first. Creation is atomic
    (a private temporary file hard-linked into place), so processes starting together end up with one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(make() + "\n")
            with contextlib.suppress(FileExistsError):  # another process won: use theirs
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # a secret readable by others is not one
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise SecretFileError(f"{path} is empty: delete it to have a new secret generated")
    return secret
