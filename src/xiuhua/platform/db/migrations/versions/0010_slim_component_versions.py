"""slim component versions: a current version's record is its register row

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = (
    "JSON: the full table-2 record, geometry as WKB hex; written when superseded, empty while the register row "
    "is the record"
)
_OLD = "JSON: the full table-2 record, geometry as WKB hex"


def upgrade() -> None:
    with op.batch_alter_table("component_versions") as batch:
        batch.alter_column("record", existing_type=sa.Text(), nullable=True, comment=_NEW, existing_comment=_OLD)


def downgrade() -> None:
    # Portable SQL cannot give current versions their record back: export and re-import the register.
    with op.batch_alter_table("component_versions") as batch:
        batch.alter_column("record", existing_type=sa.Text(), nullable=False, comment=_OLD, existing_comment=_NEW)
