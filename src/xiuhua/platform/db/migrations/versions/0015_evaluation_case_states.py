"""each case's evaluation tally state in a table of the evaluation, no longer inside the case row

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 09:00:00

The state (``evaluation/domain/tallies.py`` ``TallyState``) moves from the ``tally`` key of ``cases.details``
to ``evaluation_case_states``, which the evaluation's handler of case events keeps up. A case without a row
(loaded around the use cases) gets its state folded from its log the next time it changes. Downgrading drops
the table: the earlier code folds the state from the log where ``details`` has none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_case_states",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "state", sa.Text(), nullable=False, comment="the case's tally state as a JSON list (domain/tallies.py)"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evaluation_case_states_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_evaluation_case_states")),
        comment="what each case's log has added to the tallies so far, kept up by the evaluation's case event handler",
    )
    conn = op.get_bind()
    states = sa.table("evaluation_case_states", sa.column("case_id", sa.Integer), sa.column("state", sa.Text))
    rows = []
    for case_id, details in conn.execute(sa.text("SELECT id, details FROM cases ORDER BY id")):
        if (tally := json.loads(details).get("tally")) is not None:
            rows.append({"case_id": case_id, "state": json.dumps(tally, ensure_ascii=False)})
        if len(rows) >= 5000:
            conn.execute(states.insert(), rows)
            rows = []
    if rows:
        conn.execute(states.insert(), rows)


def downgrade() -> None:
    op.drop_table("evaluation_case_states")
