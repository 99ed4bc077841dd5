"""idempotency keys scoped to their caller, with the digest of the report that first used them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00

Keys stored before this revision are rewritten in their caller's scope: Open311 tokens in ``open311``,
the platform's own keys (its first log row written by the system) in ``internal``, any other in the
account of whoever reported the case. Their reports' digests are unknown, so they are not compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN311_PREFIX = "o311:"


def scoped_key(scope: str, key: str) -> str:
    """As domain/idempotency.py stores a key (written out here, so this revision never changes)."""
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("request_digest", sa.String(length=64), comment="SHA-256 of the report that first used the key"),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT c.id, c.idempotency_key, l.actor, l.role FROM cases c "
            "JOIN case_log l ON l.case_id = c.id AND l.seq = 1 WHERE c.idempotency_key IS NOT NULL"
        )
    ).all()
    rewritten = [
        {"id": case_id, "key": scoped_key(_scope(key, actor, role), key)} for case_id, key, actor, role in rows
    ]
    if rewritten:
        conn.execute(sa.text("UPDATE cases SET idempotency_key = :key WHERE id = :id"), rewritten)


def _scope(key: str, actor: str, role: str) -> str:
    if key.startswith(OPEN311_PREFIX):
        return "open311"
    return "internal" if role == "system" else f"account:{actor}"


def downgrade() -> None:
    # the keys' texts cannot be recovered from their digests: retries of old reports open new cases
    op.execute("UPDATE cases SET idempotency_key = NULL")
    op.drop_column("cases", "request_digest")
