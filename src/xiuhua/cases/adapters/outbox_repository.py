"""The outbox: domain events written in the same transaction as the change, read in id order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select

from xiuhua.cases.services.outbox import Event
from xiuhua.platform.db import tables as t

_AFTER = (
    select(t.outbox).where(t.outbox.c.id > bindparam("b_after")).order_by(t.outbox.c.id).limit(bindparam("b_limit"))
)


_INSERT = t.outbox.insert()  # built once: each use skips building a statement and its cache key


class OutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, events: Sequence[Event]) -> None:
        if events:
            self.conn.execute(
                _INSERT,
                [
                    {
                        "at": e.at,
                        "type": e.type,
                        "case_no": e.case_no,
                        "district_code": e.district_code,
                        "street_code": e.street_code,
                        "community_code": e.community_code,
                        "department_code": e.department_code,
                        "payload": json.dumps(e.payload, ensure_ascii=False, default=str),
                    }
                    for e in events
                ],
            )

    def after(self, last_id: int, limit: int = 200) -> list[Event]:
        """Events with an id above ``last_id``, oldest first."""
        return [
            Event(
                type=r.type,
                at=r.at,
                case_no=r.case_no,
                district_code=r.district_code,
                street_code=r.street_code,
                community_code=r.community_code,
                department_code=r.department_code,
                payload=json.loads(r.payload),
                id=r.id,
            )
            for r in self.conn.execute(_AFTER, {"b_after": last_id, "b_limit": limit})
        ]

    def last_id(self) -> int:
        return self.conn.scalar(select(func.coalesce(func.max(t.outbox.c.id), 0))) or 0

    def prune(self, before: datetime, below_id: int, limit: int) -> int:
        """Delete up to ``limit`` events written before ``before`` with an id below ``below_id``, taken from the
        oldest ids (the primary key, so a pass with nothing to do reads a handful of rows); returns how many."""
        o = t.outbox
        head = select(o.c.id).where(o.c.id < below_id).order_by(o.c.id).limit(limit).scalar_subquery()
        result = self.conn.execute(delete(o).where(o.c.id.in_(head), o.c.at < before))
        return result.rowcount
