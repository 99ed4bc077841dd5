"""Ports: what the services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from xiuhua.kernel.evidence import StoredFile


class UnitOfWork(Protocol):
    """One transaction per use case, rolled back on leaving unless committed. Each subject's ports extend it
    with the repositories its services use (read-only properties, so any implementation may stand behind)."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None:
        """Undo what was written since the last commit and go on within the same unit of work."""
        ...


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> StoredFile:
        """Store the picture rebuilt without metadata, by the hash of what is stored (idempotent); raises
        InvalidInputError for non-images."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


StatutoryDays = Callable[[], dict[date, bool]]
"""Returns the statutory calendar: False for a holiday, True for a make-up workday."""

Progress = Callable[[str, int, int], None]
"""Reports progress of a long job: (step description, done, total)."""


def no_progress(_step: str, _done: int, _total: int) -> None:
    """A Progress that reports nothing."""
