"""Idempotency keys of reports: scoped to whoever sent them, and tied to the report they first named.

A key is stored as the SHA-256 of its scope and its text, so two callers using the same text never meet,
and no caller can write into another's scope: an account's scope is ``account:<username>``, Open311
partners share ``open311`` (their tokens already carry the client), and the platform's own intake
(sensors, video, business systems, bikes) uses ``internal``, which no request can name.

A key used again with a different report is refused (the IETF ``Idempotency-Key`` draft answers 422):
the report's digest is stored beside the key. Internal keys name events that the platform derives
itself, and a retry of one may carry updated figures, so they are not compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import InvalidInputError

MAX_KEY_LENGTH = 64
INTERNAL = "internal"
OPEN311 = "open311"


def scope_of(actor: Actor) -> str:
    """The namespace of an actor's keys: the platform itself, or one account."""
    return INTERNAL if Role.SYSTEM in actor.roles else f"account:{actor.username}"


def checked_key(key: str, code: str = "case.bad_idempotency_key") -> str:
    """A caller's key, as given; raises InvalidInputError (with ``code``) for an empty or overlong key."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInputError(code, f"幂等键长度应为 1–{MAX_KEY_LENGTH} 个字符")
    return key


def scoped_key(scope: str, key: str) -> str:
    """The stored form of a key: 64 hex digits; raises InvalidInputError for an empty or overlong key."""
    return hashlib.sha256(f"{scope}\n{checked_key(key)}".encode()).hexdigest()


def retry_of(stored: tuple[str, str | None] | None, digest: str | None) -> str | None:
    """The case a stored key names (its number and first digest), when this report is a retry of it; None when
    the key is new; raises IdempotencyKeyReusedError when the key named a different report."""
    if stored is None:
        return None
    case_no, first_digest = stored
    if digest is not None and first_digest is not None and digest != first_digest:
        raise IdempotencyKeyReusedError(case_no)
    return case_no


def report_digest(
    *,
    source: str,
    kind: str,
    class_code: str,
    location: Location,
    description: str,
    urgency: str,
    reporter: str,
    reporter_phone: str | None,
    component_id: str | None,
    photos: Iterable[str],
) -> str:
    """The SHA-256 of what a report says (its place to the centimetre), to tell a retry from another report."""
    body = [
        source,
        kind,
        class_code,
        round(location.lon, 7),
        round(location.lat, 7),
        location.community_code,
        location.address,
        description.strip(),
        urgency,
        reporter,
        reporter_phone,
        component_id,
        sorted(set(photos)),
    ]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


class IdempotencyKeyReusedError(InvalidInputError):
    """The same key names a different report."""

    def __init__(self, case_no: str) -> None:
        super().__init__(
            "case.idempotency_key_reused",
            "该幂等键已用于另一份内容不同的上报；新的上报请使用新的幂等键",
            case_no=case_no,
        )
