"""video

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xiuhua.platform.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("heading_deg", sa.Float(), nullable=False, comment="view direction, degrees clockwise from north"),
        sa.Column("source", sa.Text(), nullable=False, comment="stream URL, video file or snapshot folder"),
        sa.Column(
            "zones",
            sa.Text(),
            nullable=False,
            comment="JSON: zones in image pixels, each with map position and department",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_cameras")),
    )
    op.create_table(
        "vehicles",
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("owner_name", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False, comment="AES-256-GCM ciphertext, base64"),
        sa.Column("phone_digest", sa.String(length=64), nullable=False, comment="keyed HMAC-SHA256 of the number"),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("updated_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("plate", name=op.f("pk_vehicles")),
    )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicles_phone_digest"), ["phone_digest"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=128), nullable=False, comment="one text per event"),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_digest", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.String(length=12),
            nullable=False,
            comment="queued | sent | delivered | undelivered | failed",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.Column("receipt_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_sms_messages_dedup_key")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_messages_phone_digest"), ["phone_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_messages_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_messages_state"), ["state"], unique=False)

    op.create_table(
        "parking_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=96), nullable=False, comment="camera, zone and track: one notice each"),
        sa.Column("camera_code", sa.String(length=32), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=True),
        sa.Column("plate_read", sa.String(length=16), nullable=False, comment="what the reader returned"),
        sa.Column("plate_confidence", sa.Float(), nullable=False),
        sa.Column("plate_color", sa.String(length=8), nullable=False),
        sa.Column(
            "box", sa.String(length=64), nullable=False, comment="x1,y1,x2,y2 of the vehicle in the first capture"
        ),
        sa.Column("first_capture", sa.String(length=64), nullable=False, comment="SHA-256 of the evidence frame"),
        sa.Column("plate_crop", sa.String(length=64), nullable=False),
        sa.Column("second_capture", sa.String(length=64), nullable=True),
        sa.Column("sms_id", sa.Integer(), nullable=True),
        sa.Column("captured_at", xiuhua.platform.db.types.UTCDateTime(), nullable=False),
        sa.Column("recheck_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("case_no", sa.String(length=20), nullable=True),
        sa.Column("closed_at", xiuhua.platform.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["camera_code"], ["cameras.code"], name=op.f("fk_parking_notices_camera_code_cameras")),
        sa.ForeignKeyConstraint(["sms_id"], ["sms_messages.id"], name=op.f("fk_parking_notices_sms_id_sms_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parking_notices")),
        sa.UniqueConstraint("event_key", name=op.f("uq_parking_notices_event_key")),
    )
    with op.batch_alter_table("parking_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parking_notices_camera_code"), ["camera_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_parking_notices_recheck_at"), ["recheck_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_parking_notices_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("parking_notices")
    op.drop_table("sms_messages")
    op.drop_table("vehicles")
    op.drop_table("cameras")
