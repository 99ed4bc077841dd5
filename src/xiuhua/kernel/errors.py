"""Typed domain errors: each carries a stable machine code, a kind and a zh-CN message.

DomainError
├── InvalidInputError (INVALID)   bad values: unknown unit, naive timestamp, malformed code
├── NotFoundError (NOT_FOUND)     a referenced object does not exist
├── ForbiddenError (FORBIDDEN)    the actor may not do this
└── ConflictError (CONFLICT)      duplicates, stale writes

Codes are API: never rename or reuse them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


class DomainError(Exception):
    """Base of every error the product reports to a user."""

    kind: Kind = Kind.INVALID

    def __init__(self, code: str, message: str, /, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


class InvalidInputError(DomainError):
    kind = Kind.INVALID


class NotFoundError(DomainError):
    kind = Kind.NOT_FOUND


class ForbiddenError(DomainError):
    kind = Kind.FORBIDDEN


class ConflictError(DomainError):
    kind = Kind.CONFLICT
