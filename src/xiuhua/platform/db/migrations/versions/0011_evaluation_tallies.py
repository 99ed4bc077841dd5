"""evaluation tallies (per-month evaluation counts kept up with the case log) and region populations

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 05:00:00
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from xiuhua.platform.db.types import UTCDateTime

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
    # A database with cases gets its tallies from the log: each case's log folded as the live tallies fold
    # it (evaluation/domain/tallies.py), the deltas summed.
    _tallies_from_log(op.get_bind())


def downgrade() -> None:
    op.drop_table("evaluation_tallies")
    op.drop_column("regions", "population")


def _tallies_from_log(conn: sa.Connection) -> None:
    """Fold every case's log, case by case, into the monthly tallies (the domain's fold: no service code)."""
    from xiuhua.cases.domain.case import GENESIS, Case, LogEntry, Urgency
    from xiuhua.cases.domain.workflow import Action, Source, State, Step
    from xiuhua.evaluation.domain.tallies import Key, TallyState, advance
    from xiuhua.geo.domain.geography import Location
    from xiuhua.kernel.actor import Role
    from xiuhua.org.domain.model import ClassKind

    place = ("lon", "lat", "address", "district_code", "street_code", "community_code", "grid_code", "area_class")
    case_columns = ("id", "case_no", "source", "kind", "class_code", "urgency", "description", "reporter",
                    "repeat_of", *place)  # fmt: skip
    log_columns = ("case_id", "seq", "actor", "role", "action", "from_state", "to_state", "data", "step")
    cases = sa.table("cases", *(sa.column(n) for n in case_columns), sa.column("reported_at", UTCDateTime()))
    typed = (sa.column("at", UTCDateTime()), sa.column("on_time", sa.Boolean()))
    log = sa.table("case_log", *(sa.column(n) for n in log_columns), *typed)
    heads: dict[int, Case] = {}
    for r in conn.execute(sa.select(cases)):
        heads[r.id] = Case(
            case_no=r.case_no, source=Source(r.source), kind=ClassKind(r.kind), class_code=r.class_code,
            location=Location(*(getattr(r, n) for n in place)), description=r.description,
            urgency=Urgency(r.urgency), reported_at=r.reported_at, reporter=r.reporter, repeat_of=r.repeat_of,
        )  # fmt: skip
    deltas: Counter[Key] = Counter()

    def fold(case_id: int | None, rows: list[Any]) -> None:
        if case_id is None or case_id not in heads:
            return
        entries = [
            LogEntry(seq=r.seq, at=r.at, actor=r.actor, role=Role(r.role), action=Action(r.action),
                     from_state=State(r.from_state) if r.from_state else None, to_state=State(r.to_state),
                     reason="", attachments=(), data=json.loads(r.data), step=Step(r.step) if r.step else None,
                     step_due_at=None, on_time=r.on_time, prev_hash=GENESIS)
            for r in rows
        ]  # fmt: skip
        deltas.update(advance(TallyState(), heads[case_id], entries)[1])

    current: int | None = None
    rows: list[Any] = []
    for r in conn.execute(sa.select(log).order_by(log.c.case_id, log.c.seq).execution_options(yield_per=5000)):
        if r.case_id != current:
            fold(current, rows)
            current, rows = r.case_id, []
        rows.append(r)
    fold(current, rows)
    tallies = sa.table("evaluation_tallies", *(sa.column(n) for n in ("month", "object_type", "code", "name", "n")))
    out = [dict(zip(("month", "object_type", "code", "name", "n"), (*key, n), strict=True))
           for key, n in sorted(deltas.items()) if n]  # fmt: skip
    for i in range(0, len(out), 5000):
        conn.execute(tallies.insert(), out[i : i + 5000])
