"""citizens' ratings of closed cases in their own table

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00

Ratings were kept only as audit rows (action ``citizen.rate``, the case number as target, score and comment
as JSON details). They move to ``case_ratings``, one per case; the audit rows stay where they are. The first
rating of a case is copied (a second could only come from two requests racing); a rating of a case that no
longer exists is not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xiuhua.platform.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ratings = op.create_table(
        "case_ratings",
        sa.Column("case_id", sa.Integer(), nullable=False, comment="one rating per case"),
        sa.Column("score", sa.Integer(), nullable=False, comment="satisfaction, 1–5"),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column(
            "rated_by", sa.String(length=64), nullable=False, comment="the citizen account that reported the case"
        ),
        sa.Column("rated_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_ratings_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_ratings")),
    )
    assert ratings is not None
    audit = sa.table(
        "audit_events",
        sa.column("id", sa.Integer()),
        sa.column("at", xiuhua.platform.db.types.UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target", sa.String()),
        sa.column("details", sa.Text()),
    )
    cases = sa.table("cases", sa.column("id", sa.Integer()), sa.column("case_no", sa.String()))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(cases.c.id, audit.c.at, audit.c.actor, audit.c.details)
        .join_from(audit, cases, cases.c.case_no == audit.c.target)
        .where(audit.c.action == "citizen.rate")
        .order_by(audit.c.id)
    ).all()
    copied: dict[int, dict[str, object]] = {}
    for case_id, at, actor, details in rows:
        if case_id in copied:
            continue
        body = json.loads(details or "{}")
        copied[case_id] = {
            "case_id": case_id,
            "score": int(body.get("score", 0)),
            "comment": str(body.get("comment") or "")[:500],
            "rated_by": actor[:64],
            "rated_at": at,
        }
    if copied:
        op.bulk_insert(ratings, list(copied.values()))


def downgrade() -> None:
    # the audit rows were never removed: the ratings are still there for 0013's code to read
    op.drop_table("case_ratings")
