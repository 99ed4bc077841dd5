"""layers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "layers",
        sa.Column("code", sa.String(length=40), nullable=False, comment="grids, communities, components-01, …"),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False, comment="行政区划 | 基础网格 | 城市部件 | …"),
        sa.Column(
            "source",
            sa.String(length=24),
            nullable=False,
            comment="districts | streets | communities | unit_grids | …",
        ),
        sa.Column(
            "source_filter",
            sa.String(length=128),
            nullable=False,
            comment="class=01;status=破损,丢失;area_class=A",
        ),
        sa.Column("style", sa.Text(), nullable=False, comment="JSON: MapLibre paint properties"),
        sa.Column("min_zoom", sa.Integer(), nullable=False),
        sa.Column("max_zoom", sa.Integer(), nullable=False),
        sa.Column(
            "geojson_min_zoom", sa.Integer(), nullable=False, comment="from this zoom up GeoJSON, below it tiles"
        ),
        sa.Column("visible", sa.Boolean(), nullable=False, comment="shown when the map opens"),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_layers")),
    )
    # Tiles and GeoJSON read unit grids by bounding box, and component points from an index alone.
    with op.batch_alter_table("unit_grids", schema=None) as batch_op:
        batch_op.create_index("ix_unit_grids_bbox", ["min_lon", "max_lon", "min_lat", "max_lat"], unique=False)
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index("ix_components_map", ["lon", "lat", "class_code", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index("ix_components_map")
    with op.batch_alter_table("unit_grids", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_grids_bbox")

    op.drop_table("layers")
