"""In-memory repositories of the cases, for service tests: the same Protocols as the SQL ones (cases.ports),
held in plain containers a unit of work can copy and restore. They keep what the SQL ones promise: a stale
save raises ConflictError, a taken idempotency key raises ConflictError, case numbers run per day."""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from xiuhua.cases.adapters.seen import SeenCases
from xiuhua.cases.domain.case import Case, LogEntry
from xiuhua.cases.domain.events import OverdueMark
from xiuhua.cases.domain.rating import Rating
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import State
from xiuhua.cases.services.outbox import Event
from xiuhua.kernel.errors import ConflictError
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.routing import RoutingRule


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    content_type: str
    size: int
    added_at: datetime


class FakeCases(SeenCases):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Case] = {}
        """Case number → the stored case (its new_log emptied), in insertion order (the id order)."""
        self.logs: dict[str, list[LogEntry]] = {}
        self.counters: dict[str, int] = {}
        self.photos: dict[tuple[int, str, str], StoredPhoto] = {}

    def next_case_no(self, local_day: date) -> str:
        day = local_day.strftime("%Y%m%d")
        self.counters[day] = self.counters.get(day, 0) + 1
        return f"{day}{self.counters[day]:06d}"

    def add(self, case: Case) -> None:
        if case.idempotency_key and self.by_idempotency_key(case.idempotency_key) is not None:
            raise ConflictError("case.idempotency_key_taken", "该幂等键已被另一次上报使用", key=case.idempotency_key)
        if case.case_no in self.rows:
            raise ConflictError("case.conflict", f"案件 {case.case_no} 已存在", case_no=case.case_no)
        case.id = max((c.id or 0 for c in self.rows.values()), default=0) + 1
        case.version = 1
        self.logs[case.case_no] = []
        self._flush(case)

    def add_many(self, cases: Sequence[Case], progress: Callable[[str, int, int], None]) -> None:
        for done, case in enumerate(cases, 1):
            case.id = max((c.id or 0 for c in self.rows.values()), default=0) + 1
            case.version = 1
            self.logs[case.case_no] = list(case.new_log)  # the whole log is kept on the case, as in SQL
            self.rows[case.case_no] = self._stored(case)
            self.seen[id(case)] = case
            progress("cases", done, len(cases))

    def save(self, case: Case) -> None:
        stored = self.rows.get(case.case_no)
        if stored is None or stored.version != case.version:
            raise ConflictError(
                "case.conflict", f"案件 {case.case_no} 已被他人更新，请刷新后重试", case_no=case.case_no
            )
        case.version += 1
        self._flush(case)

    def _flush(self, case: Case) -> None:
        self.seen[id(case)] = case
        self.logs[case.case_no].extend(case.new_log)
        case.new_log, case.new_urges = [], []
        self.rows[case.case_no] = self._stored(case)

    @staticmethod
    def _stored(case: Case) -> Case:
        stored = copy.deepcopy(case)
        stored.events = []  # events belong to the transaction, never to the stored row
        return stored

    def get(self, case_no: str) -> Case | None:
        stored = self.rows.get(case_no)
        if stored is None:
            return None
        case = copy.deepcopy(stored)
        self.seen[id(case)] = case
        return case

    def by_idempotency_key(self, key: str) -> tuple[str, str | None] | None:
        return next(((c.case_no, c.request_digest) for c in self.rows.values() if c.idempotency_key == key), None)

    def add_photo(self, case_id: int, stage: str, sha256: str, content_type: str, size: int, at: datetime) -> None:
        self.photos.setdefault((case_id, stage, sha256), StoredPhoto(content_type, size, at))

    def covered(self, case_nos: Sequence[str], scope: CaseScope) -> set[str]:
        found = (self.rows[no] for no in case_nos if no in self.rows)
        return {
            c.case_no
            for c in found
            if scope.covers(
                c.location.district_code, c.location.street_code, c.location.community_code, c.department_code
            )
        }

    def same_class_near(
        self, kind: ClassKind, class_code: str, lon: float, lat: float, radius_m: float, since: datetime
    ) -> list[tuple[str, float, State, datetime, datetime | None]]:
        found = []
        for c in self.rows.values():
            if c.kind is not kind or c.class_code != class_code:
                continue
            if not (c.reported_at >= since or (c.closed_at is not None and c.closed_at >= since)):
                continue
            metres = round(haversine_m(lon, lat, c.location.lon, c.location.lat), 1)
            if metres <= radius_m:
                found.append((c.case_no, metres, c.state, c.reported_at, c.closed_at))
        return sorted(found, key=lambda x: x[1])

    def mark_overdue(self, now: datetime) -> list[OverdueMark]:
        marked = []
        for c in self.rows.values():
            if c.due_at is not None and c.due_at < now and not c.overdue:
                c.overdue = True
                loc = c.location
                marked.append(
                    OverdueMark(
                        c.case_no, c.state.value, c.class_code, c.due_at, loc.district_code, loc.street_code,
                        loc.community_code, c.department_code,
                    )
                )  # fmt: skip
        return marked

    def overdue_in(self, states: Sequence[State]) -> list[tuple[str, datetime | None, datetime | None, datetime]]:
        return [
            (c.case_no, c.due_at, c.auto_urged_at, _entered_at(c))
            for c in self.rows.values()
            if c.overdue and c.state in states
        ]

    def waiting_since(self, state: State, flag_unset: str) -> list[tuple[str, datetime]]:
        return [
            (c.case_no, _entered_at(c)) for c in self.rows.values() if c.state is state and not getattr(c, flag_unset)
        ]

    def set_flag(self, case_nos: Sequence[str], column: str, value: Any) -> None:
        for no in case_nos:
            if no in self.rows:
                setattr(self.rows[no], column, value)

    def log(self, case_no: str) -> list[LogEntry]:
        return list(self.logs.get(case_no, []))

    def chains(self) -> Iterator[tuple[str, str, int, list[LogEntry]]]:
        for c in self.rows.values():
            yield c.case_no, c.log_head, c.log_seq, list(self.logs[c.case_no])

    def count_by(self, column: str) -> dict[str, int]:
        def value(c: Case) -> Any:
            v = getattr(c, column)
            return v.value if isinstance(v, Enum) else v

        return dict(Counter(value(c) for c in self.rows.values()))


def _entered_at(case: Case) -> datetime:
    current = case.current_step
    assert current is not None, "an open case is always in a step"
    return current.entered_at


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (the mean Earth radius), as the SQL repository measures it."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


class FakeOutbox:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, events: Sequence[Event]) -> None:
        for e in events:  # the payload as the table gives it back: JSON, dates as text
            payload = json.loads(json.dumps(e.payload, ensure_ascii=False, default=str))
            self.events.append(replace(e, payload=payload, id=self.last_id() + 1))

    def after(self, last_id: int, limit: int = 200) -> list[Event]:
        return [e for e in self.events if e.id is not None and e.id > last_id][:limit]

    def last_id(self) -> int:
        return self.events[-1].id or 0 if self.events else 0

    def prune(self, before: datetime, below_id: int, limit: int) -> int:
        oldest = set(sorted(e.id for e in self.events if e.id is not None and e.id < below_id)[:limit])
        gone = [e for e in self.events if e.id in oldest and e.at < before]
        self.events = [e for e in self.events if e not in gone]
        return len(gone)


class FakePolicyStore:
    def __init__(self) -> None:
        self.limits: dict[tuple[str, str, str], TimeLimit] = {}
        self.rules: list[RoutingRule] = []

    def step_limits(self) -> dict[tuple[str, str, str], TimeLimit]:
        return dict(self.limits)

    def put_step_limits(self, limits: dict[tuple[str, str, str], TimeLimit]) -> None:
        self.limits.update(limits)

    def routing_rules(self) -> list[RoutingRule]:
        return sorted(self.rules, key=lambda r: -r.priority)  # stable: equal priorities keep their order

    def replace_routing_rules(self, rules: Sequence[RoutingRule]) -> None:
        self.rules = list(rules)


class FakeRatings:
    """Ratings by case number; a second rating of a case raises ConflictError, as the table's key does."""

    def __init__(self) -> None:
        self.ratings: dict[str, Rating] = {}
        self.case_ids: dict[str, int] = {}

    def add(self, case_id: int, rating: Rating) -> None:
        if rating.case_no in self.ratings:
            raise ConflictError("rating.duplicate", f"案件 {rating.case_no} 已评价过", case_no=rating.case_no)
        self.ratings[rating.case_no] = rating
        self.case_ids[rating.case_no] = case_id

    def get(self, case_no: str) -> Rating | None:
        return self.ratings.get(case_no)
