"""evaluation

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xiuhua.platform.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = xiuhua.platform.db.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("case_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_log_at", ["at", "case_id", "actor", "action", "from_state", "on_time"], unique=False
        )
    op.create_table(
        "evaluation_schemes",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column(
            "valid_from",
            sa.Date(),
            nullable=False,
            comment="local date from which months are evaluated under it",
        ),
        sa.Column("body", sa.Text(), nullable=False, comment="JSON: weights, score bands, grade bands"),
        sa.Column("added_at", UTC(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_evaluation_schemes")),
    )
    op.create_table(
        "evaluation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, comment="1 when frozen; +1 for each approved appeal"),
        sa.Column("scheme_version", sa.String(length=32), nullable=False),
        sa.Column("frozen_at", UTC(), nullable=False),
        sa.Column("frozen_by", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="JSON: the published result"),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_results")),
        sa.UniqueConstraint("period_key", "revision", name="uq_evaluation_results_period_revision"),
    )
    op.create_table(
        "evaluation_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_code", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=48), nullable=False),
        sa.Column("case_no", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", UTC(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending | approved | rejected"),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTC(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_appeals")),
    )
    with op.batch_alter_table("evaluation_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_appeals_period_key"), ["period_key"], unique=False)
    op.create_table(
        "evaluation_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False, comment="freeze | appeal | approve | reject"),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("before_sha256", sa.String(length=64), nullable=True),
        sa.Column("after_sha256", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, comment="JSON: what changed"),
        sa.ForeignKeyConstraint(
            ["appeal_id"],
            ["evaluation_appeals.id"],
            name=op.f("fk_evaluation_audit_appeal_id_evaluation_appeals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_audit")),
    )
    with op.batch_alter_table("evaluation_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_audit_period_key"), ["period_key"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="JSON: classes, areas, window, headquarters, targets"),
        sa.Column("added_at", UTC(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sa.String(length=48), nullable=False),
        sa.Column("unit_code", sa.String(length=18), nullable=False, comment="the organisation that did the work"),
        sa.Column("done_on", sa.Date(), nullable=False, comment="local date the work was done"),
        sa.Column("amount", sa.Float(), nullable=False, comment="in the target's unit (km, m², …)"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_at", UTC(), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_progress")),
    )
    with op.batch_alter_table("campaign_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_progress_campaign_code"), ["campaign_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_progress_campaign_code"))
    op.drop_table("campaign_progress")
    op.drop_table("campaigns")
    with op.batch_alter_table("case_log", schema=None) as batch_op:
        batch_op.drop_index("ix_case_log_at")
    with op.batch_alter_table("evaluation_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_audit_period_key"))
    op.drop_table("evaluation_audit")
    with op.batch_alter_table("evaluation_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_appeals_period_key"))
    op.drop_table("evaluation_appeals")
    op.drop_table("evaluation_results")
    op.drop_table("evaluation_schemes")
