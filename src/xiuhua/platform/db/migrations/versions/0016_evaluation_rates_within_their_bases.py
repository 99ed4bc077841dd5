"""the evaluation's counts folded afresh: rates within their bases, timeliness unknown apart, 超期 where it began

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-17 09:00:00

Three definitions change (docs/evaluation.md): a case disposed or closed is due (应处置, 应结案) even when it
is parked at the period's end; a disposal whose step had no deadline counts as 时限未知, in neither side of
an on-time rate; and 超期 counts in the month the deadline passed, not the month of a late disposal. Each
case's tally state gains the counts of untimed dispositions and of 专项督办 (urges by a person, not the
timer), so every state and every tally is folded again from the case log (``evaluation/adapters/refold.py``).
Downgrading drops the states (the earlier
code folds a case's state from its log when it has none); run ``xiuhua evaluation rebuild-tallies`` for each
month afterwards to have the earlier definitions' tallies.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from xiuhua.evaluation.adapters.refold import refold

    refold(op.get_bind())


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM evaluation_case_states"))
