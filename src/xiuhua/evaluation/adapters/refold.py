"""Every case's tally state and the monthly tallies, folded afresh from the case log.

What a migration runs when the definitions of the counts change (``evaluation/domain/tallies.py``): the old
states and tallies are dropped and each case's whole log is folded again with the domain's ``advance``, one
case at a time, streamed. No service code, so a migration may call it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, delete, select

from xiuhua.cases.domain.case import GENESIS, Case, LogEntry, Urgency
from xiuhua.cases.domain.workflow import Action, Source, State, Step
from xiuhua.evaluation.adapters.evaluation_repository import EvaluationRepository
from xiuhua.evaluation.domain.tallies import Key, TallyState, advance
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Role
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t

_BATCH = 5000


def refold(conn: Connection, progress: Callable[[int], None] = lambda done: None) -> int:
    """Replace the states and tallies with those folded from the log; returns the number of cases folded."""
    conn.execute(delete(t.evaluation_case_states))
    conn.execute(delete(t.evaluation_tallies))
    heads = {r.id: _head(r) for r in conn.execute(select(t.cases))}
    store = EvaluationRepository(conn)
    deltas: Counter[Key] = Counter()
    states: list[tuple[int, TallyState]] = []
    folded = 0

    def fold(case_id: int | None, rows: list[Any]) -> None:
        nonlocal folded
        if case_id is None or case_id not in heads:
            return
        state, change = advance(TallyState(), heads[case_id], [_entry(r) for r in rows])
        states.append((case_id, state))
        deltas.update(change)
        folded += 1
        if len(states) >= _BATCH:
            store.put_case_states(states)
            states.clear()
            progress(folded)

    log = t.case_log
    current: int | None = None
    rows: list[Any] = []
    for r in conn.execute(select(log).order_by(log.c.case_id, log.c.seq).execution_options(yield_per=_BATCH)):
        if r.case_id != current:
            fold(current, rows)
            current, rows = r.case_id, []
        rows.append(r)
    fold(current, rows)
    store.put_case_states(states)
    store.add_tallies(Counter({k: n for k, n in deltas.items() if n}))
    progress(folded)
    return folded


def _head(r: Any) -> Case:
    """What the fold reads of a case: fixed at its report."""
    place = Location(r.lon, r.lat, r.address, r.district_code, r.street_code, r.community_code, r.grid_code,
                     r.area_class)  # fmt: skip
    return Case(
        case_no=r.case_no, source=Source(r.source), kind=ClassKind(r.kind), class_code=r.class_code, location=place,
        description=r.description, urgency=Urgency(r.urgency), reported_at=r.reported_at, reporter=r.reporter,
        repeat_of=r.repeat_of,
    )  # fmt: skip


def _entry(r: Any) -> LogEntry:
    """What the fold reads of a log row (the hash chain is not needed to count)."""
    return LogEntry(
        seq=r.seq, at=r.at, actor=r.actor, role=Role(r.role), action=Action(r.action),
        from_state=State(r.from_state) if r.from_state else None, to_state=State(r.to_state), reason="",
        attachments=(), data=json.loads(r.data), step=Step(r.step) if r.step else None, step_due_at=r.step_due_at,
        on_time=r.on_time, prev_hash=GENESIS,
    )  # fmt: skip
