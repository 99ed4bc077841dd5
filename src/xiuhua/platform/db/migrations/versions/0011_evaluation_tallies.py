"""evaluation tallies (per-month evaluation counts kept up with the case log) and region populations

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE on both backends: a batch copy of "regions" would trip the foreign keys that point to it
    op.add_column(
        "regions",
        sa.Column("population", sa.Integer(), comment="residents (常住人口), for case volume per 10,000 people"),
    )
    op.create_table(
        "evaluation_tallies",
        sa.Column("month", sa.String(length=7), nullable=False, comment="local month YYYY-MM"),
        sa.Column(
            "object_type",
            sa.String(length=16),
            nullable=False,
            comment="place | department | a post | hotspot | missed",
        ),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False, comment="the count, e.g. filed, closed_on_time"),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "object_type", "code", "name", name=op.f("pk_evaluation_tallies")),
        comment="per-month evaluation counts, kept up with every case log row (domain/tallies.py)",
        sqlite_with_rowid=False,
    )
    # A database with cases gets its tallies from the log, month by month (the same code as
    # `xiuhua evaluation rebuild-tallies`).
    from xiuhua.evaluation.services.evaluate import rebuild_tallies_on

    rebuild_tallies_on(op.get_bind())


def downgrade() -> None:
    op.drop_table("evaluation_tallies")
    op.drop_column("regions", "population")
