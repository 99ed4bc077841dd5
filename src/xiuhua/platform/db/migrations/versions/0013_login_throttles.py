"""login throttling by address and name instead of account locks; spent refresh tokens; no signing secret in
the database

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 09:00:00

Accounts lose their failure counter and lock (failed logins now slow down the address and the name that
make them, in ``login_throttles``). Rotated refresh tokens are remembered (``spent_refresh_tokens``) so that
a second use revokes their session. The development signing secret that was kept in ``settings`` is
deleted: it now lives in a file beside the database, and tokens signed with the old one stop working.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xiuhua.platform.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column(
            "address", sa.String(length=64), nullable=False, comment="client address; '' for a name from every address"
        ),
        sa.Column(
            "username",
            sa.String(length=64),
            nullable=False,
            comment="the name tried; '' for every name from an address",
        ),
        sa.Column("failures", sa.Integer(), nullable=False, comment="failed logins in a row"),
        sa.Column("last_failure_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.Column("blocked_until", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.Column(
            "succeeded_at",
            xiuhua.platform.db.types.UTCDateTime(),
            nullable=True,
            comment="the name's last login from this address",
        ),
        sa.Column("updated_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", "username", name=op.f("pk_login_throttles")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "spent_refresh_tokens",
        sa.Column("refresh_hash", sa.String(length=64), nullable=False, comment="SHA-256 of a rotated refresh token"),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("spent_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_spent_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("refresh_hash", name=op.f("pk_spent_refresh_tokens")),
    )
    with op.batch_alter_table("spent_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_refresh_tokens_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_spent_refresh_tokens_spent_at"), ["spent_at"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_attempts")

    op.execute("DELETE FROM settings WHERE key = 'auth.jwt_secret'")


def downgrade() -> None:
    # the secret is not put back: a development database makes a new one when it needs one
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", xiuhua.platform.db.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table("spent_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_refresh_tokens_spent_at"))
        batch_op.drop_index(batch_op.f("ix_spent_refresh_tokens_session_id"))

    op.drop_table("spent_refresh_tokens")
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_updated_at"))

    op.drop_table("login_throttles")
