"""Evaluation reads (set-based aggregates over the case log) and the frozen results, appeals and audit."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    update,
)

from xiuhua.cases.domain.workflow import STEP_OF, Step
from xiuhua.evaluation.domain.facts import CaseFacts
from xiuhua.evaluation.domain.tallies import FILING_ACTIONS, TIMER, Key, TallyState
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert

_DISPOSING = [s.value for s, step in STEP_OF.items() if step is Step.DISPOSE]
"""The states of a case in its disposal step (parked among them: its clock is stopped, so never overdue)."""
_PAD = 9  # digits of the log sequence prefixed to a value so that MAX/MIN pick the latest/earliest row


def _aware(value: datetime | str | None) -> datetime | None:
    """A MIN()/MAX() over a UTC column: SQLite hands it back as text, both drop the zone."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sum(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class EvaluationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._states: dict[int, TallyState] = {}  # tally states kept in this transaction, by case id

    # ----- dialect helpers -----------------------------------------------------------------------
    @property
    def _pg(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    @property
    def _mark(self) -> str:
        return "%s" if self._pg else "?"

    def _json_department(self) -> ColumnElement[Any]:
        data = t.case_log.c.data
        if self._pg:
            return func.json_extract_path_text(cast(data, JSON), "department")
        return func.json_extract(data, "$.department")

    def _seq_tagged(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        seq = t.case_log.c.seq
        padded = func.lpad(cast(seq, String), _PAD, "0") if self._pg else func.printf(f"%0{_PAD}d", seq)
        return padded.concat(func.coalesce(value, ""))

    # ----- facts ---------------------------------------------------------------------------------
    def case_facts(self, start: datetime, end: datetime) -> CaseFacts:
        """One row per case with a log row in [start, end): what happened to it by ``end`` (counts of
        actions, flags), and where and to whom it belongs."""
        c, lg = t.cases.c, t.case_log.c
        in_period = lg.at >= start
        action, source_state = lg.action, lg.from_state
        approve = action == "approve"
        dispatch = action == "dispatch"
        stmt = (
            select(
                c.case_no,
                c.district_code,
                c.street_code,
                c.community_code,
                func.coalesce(c.grid_code, "").label("grid_code"),
                c.source,
                c.reporter,
                c.class_code,
                c.lon,
                c.lat,
                case((c.repeat_of.is_(None), 0), else_=1).label("repeat"),
                case((c.reported_at >= start, 1), else_=0).label("reported_in"),
                _sum(and_(action.in_(FILING_ACTIONS), in_period)).label("filed_in"),
                _sum(action.in_(FILING_ACTIONS)).label("filed"),
                _sum(action == "self_dispose").label("self_disposed"),
                _sum(action == "close").label("closed"),
                _sum(action == "verify").label("verified"),
                _sum(and_(dispatch, in_period)).label("dispatched_in"),
                _sum(action == "feedback").label("feedbacks"),
                _sum(and_(action == "feedback", lg.on_time.is_(False))).label("late_feedbacks"),
                _sum(and_(action == "feedback", lg.on_time.is_(None))).label("untimed_feedbacks"),
                _sum(action == "rework").label("reworks"),
                _sum(and_(approve, source_state == "return_requested")).label("returns"),
                _sum(and_(action == "return", source_state == "filed")).label("returns_to_acceptor"),
                _sum(and_(approve, source_state == "extension_requested")).label("extensions"),
                _sum(and_(approve, source_state == "park_requested")).label("parks"),
                _sum(action == "resume").label("resumes"),
                _sum(action == "urge").label("urges"),
                _sum(and_(action == "urge", lg.actor != TIMER)).label("special_urges"),
                func.max(case((dispatch, self._seq_tagged(self._json_department())))).label("department"),
                func.min(case((dispatch, self._seq_tagged(lg.actor)))).label("first_dispatcher"),
                func.max(case((action == "file", self._seq_tagged(lg.actor)))).label("filer"),
            )
            .select_from(t.cases.join(t.case_log, and_(lg.case_id == c.id, lg.at < end)))
            .where(c.id.in_(select(lg.case_id).where(lg.at >= start, lg.at < end)))
            .group_by(c.id)
        )  # no ORDER BY: every grouping downstream sorts its own keys
        if self._pg:
            # JIT compilation of this wide aggregate costs more than it saves (seconds at a million cases)
            self.conn.exec_driver_sql("SET LOCAL jit = off")
        rows = self.conn.execute(stmt).all()
        names = list(stmt.selected_columns.keys())
        columns: dict[str, NDArray[Any]] = {}
        for i, name in enumerate(names):
            values = [r[i] for r in rows]
            if name in ("department", "first_dispatcher", "filer"):
                columns[name] = np.array([v[_PAD:] if v else "" for v in values], dtype=object)
            elif name in ("lon", "lat"):
                columns[name] = np.array(values, dtype=np.float64)
            elif name in ("case_no", "district_code", "street_code", "community_code", "grid_code", "source",
                          "reporter", "class_code"):  # fmt: skip
                columns[name] = np.array(values, dtype=object)
            else:
                columns[name] = np.array(values, dtype=np.int64)
        return CaseFacts(columns)

    def post_events(self, start: datetime, end: datetime) -> list[tuple[str, str, str | None, bool | None, int]]:
        """(actor, action, from_state, on_time, count) of the log rows in [start, end)."""
        # PostgreSQL groups with a hash aggregate. SQLite would sort through a temporary B-tree, so there
        # the rows come from the covering index as plain tuples (no result processing) to a C-level Counter.
        columns = "actor, action, from_state, on_time"
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self._pg:
                cursor.execute(
                    f"SELECT {columns}, count(*) FROM case_log WHERE at >= %s AND at < %s GROUP BY {columns}",
                    (self._stored(start), self._stored(end)),
                )
                counts = Counter({(a, b, s, o): n for a, b, s, o, n in cursor.fetchall()})
            else:
                cursor.execute(f"SELECT {columns} FROM case_log WHERE at >= ? AND at < ?",
                               (self._stored(start), self._stored(end)))  # fmt: skip
                counts = Counter(cursor.fetchall())
        finally:
            cursor.close()
        rows = [(a, b, s, None if o is None else bool(o), n) for (a, b, s, o), n in counts.items()]
        return sorted(rows, key=str)

    def _stored(self, moment: datetime) -> Any:
        """A UTC instant as the UTCDateTime column stores it, for statements sent to the driver directly."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return naive if self._pg else naive.strftime("%Y-%m-%d %H:%M:%S.%f")

    def event_cases(
        self, start: datetime, end: datetime, actor: str, actions: Sequence[str], on_time: bool | None = None
    ) -> list[str]:
        """Case numbers of one actor's log rows of the given actions in [start, end) (drill-down)."""
        lg, c = t.case_log.c, t.cases.c
        stmt = (
            select(c.case_no)
            .select_from(t.case_log.join(t.cases, c.id == lg.case_id))
            .where(lg.at >= start, lg.at < end, lg.actor == actor, lg.action.in_(list(actions)))
            .order_by(c.case_no, lg.seq)
        )
        if on_time is not None:
            stmt = stmt.where(lg.on_time.is_(on_time))
        return list(self.conn.scalars(stmt))

    def returns_by_department(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department that returned the case, case number) for each return granted in [start, end)."""
        lg, c = t.case_log.c, t.cases.c
        stmt = (
            select(self._json_department(), c.case_no)
            .select_from(t.case_log.join(t.cases, c.id == lg.case_id))
            .where(lg.at >= start, lg.at < end, lg.action == "approve", lg.from_state == "return_requested")
            .order_by(c.case_no, lg.seq)
        )
        return [(d or "", n) for d, n in self.conn.execute(stmt)]

    def late_disposals(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department, case number) of each disposal step that ended after its deadline, the deadline in
        [start, end), whenever it ended: the department is the one of the dispatch before the row."""
        lg, c = t.case_log.c, t.cases.c
        earlier = t.case_log.alias("earlier")
        e = earlier.c
        dispatched = (
            select(e.data)
            .where(e.case_id == lg.case_id, e.seq < lg.seq, e.action == "dispatch")
            .order_by(e.seq.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            select(dispatched, c.case_no)
            .select_from(t.case_log.join(t.cases, c.id == lg.case_id))
            .where(lg.at >= start, lg.step == "dispose", lg.on_time.is_(False))  # it ended after its deadline
            .where(lg.step_due_at >= start, lg.step_due_at < end)
            .order_by(c.case_no, lg.seq)
        )
        out = [(str(json.loads(data).get("department") or ""), no) for data, no in self.conn.execute(stmt) if data]
        return [(d, no) for d, no in out if d]

    def overdue_open(self, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(department, case number) of each case still in its disposal step, flagged overdue by the deadline
        sweep, whose deadline fell in [start, end)."""
        c = t.cases.c
        stmt = (
            select(c.department_code, c.case_no)
            .where(c.state.in_(_DISPOSING), c.overdue.is_(True), c.due_at >= start, c.due_at < end)
            .where(c.department_code.is_not(None))
            .order_by(c.case_no)
        )
        return [(d, no) for d, no in self.conn.execute(stmt)]

    def grid_supervisors(self, grids: Sequence[str]) -> dict[str, str]:
        """Unit grid code → the supervisor who patrols it, for the given grids that have one."""
        g, r = t.unit_grids.c, t.responsibility_grids.c
        out: dict[str, str] = {}
        for i in range(0, len(grids), 1000):
            stmt = (
                select(g.code, r.supervisor)
                .select_from(t.unit_grids.join(t.responsibility_grids, r.code == g.responsibility_code))
                .where(g.code.in_(grids[i : i + 1000]), r.supervisor.is_not(None))
            )
            out.update({code: supervisor for code, supervisor in self.conn.execute(stmt)})
        return out

    # ----- tallies -------------------------------------------------------------------------------
    def tallies(self, month: str) -> list[tuple[str, str, str, int]]:
        """(object type, code, count, n) of a month's tallies, leaving out counts that came back to zero."""
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:  # plain tuples straight from the driver: tens of thousands of rows
            mark = "%s" if self._pg else "?"
            cursor.execute(
                f"SELECT object_type, code, name, n FROM evaluation_tallies WHERE month = {mark} AND n <> 0",
                (month,),
            )
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def replace_tallies(self, month: str, rows: Sequence[tuple[str, str, str, int]]) -> None:
        """Set a month's tallies to the given (object type, code, count, n) rows."""
        ta = t.evaluation_tallies
        self.conn.execute(ta.delete().where(ta.c.month == month))
        for i in range(0, len(rows), 5000):
            self.conn.execute(ta.insert(), [{"month": month, "object_type": k, "code": c, "name": n, "n": v}
                                            for k, c, n, v in rows[i : i + 5000]])  # fmt: skip

    def log_span(self) -> tuple[datetime, datetime] | None:
        """The first and last instant of the case log (None when there is no log)."""
        lg = t.case_log.c
        first, last = self.conn.execute(select(func.min(lg.at), func.max(lg.at))).one()
        span = _aware(first), _aware(last)
        return None if span[0] is None or span[1] is None else (span[0], span[1])

    def grid_areas(self) -> dict[str, float]:
        """Unit grid code → area in m²."""
        g = t.unit_grids.c
        return {code: area for code, area in self.conn.execute(select(g.code, g.area_m2))}

    def names(self) -> dict[str, str]:
        """Display names of regions, organisations (by code) and staff (by username)."""
        out: dict[str, str] = {}
        out.update({c: n for c, n in self.conn.execute(select(t.regions.c.code, t.regions.c.name))})
        out.update({c: n for c, n in self.conn.execute(select(t.organizations.c.code, t.organizations.c.name))})
        out.update({u: n for u, n in self.conn.execute(select(t.staff.c.username, t.staff.c.name))})
        return out

    # ----- schemes -------------------------------------------------------------------------------
    def schemes(self) -> list[dict[str, Any]]:
        s = t.evaluation_schemes.c
        return [json.loads(body) for (body,) in self.conn.execute(select(s.body).order_by(s.valid_from))]

    def add_scheme(self, version: str, valid_from: date, body: dict[str, Any], at: datetime, by: str) -> None:
        self.conn.execute(
            t.evaluation_schemes.insert().values(
                version=version, valid_from=valid_from, body=json.dumps(body, ensure_ascii=False, sort_keys=True),
                added_at=at, added_by=by,
            )
        )  # fmt: skip

    def has_scheme(self, version: str) -> bool:
        s = t.evaluation_schemes.c
        return self.conn.scalar(select(func.count()).where(s.version == version)) != 0

    # ----- frozen results ------------------------------------------------------------------------
    def latest_result(self, period_key: str) -> tuple[int, str, str] | None:
        """(revision, body, sha256) of the latest frozen revision of a period, if frozen."""
        r = t.evaluation_results.c
        row = self.conn.execute(
            select(r.revision, r.body, r.body_sha256)
            .where(r.period_key == period_key)
            .order_by(r.revision.desc())
            .limit(1)
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def add_result(
        self, period_key: str, revision: int, scheme_version: str, body: str, sha256: str, at: datetime, by: str
    ) -> None:
        self.conn.execute(
            t.evaluation_results.insert().values(
                period_key=period_key, revision=revision, scheme_version=scheme_version, body=body,
                body_sha256=sha256, frozen_at=at, frozen_by=by,
            )
        )  # fmt: skip

    # ----- appeals and audit ---------------------------------------------------------------------
    def add_appeal(self, row: dict[str, Any]) -> int:
        appeal_id: int = self.conn.execute(
            t.evaluation_appeals.insert().values(**row).returning(t.evaluation_appeals.c.id)
        ).scalar_one()
        return appeal_id

    def appeal(self, appeal_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.evaluation_appeals).where(t.evaluation_appeals.c.id == appeal_id)).first()
        return dict(row._mapping) if row else None

    def appeals(self, period_key: str, status: str | None = None) -> list[dict[str, Any]]:
        a = t.evaluation_appeals.c
        stmt = select(t.evaluation_appeals).where(a.period_key == period_key).order_by(a.id)
        if status:
            stmt = stmt.where(a.status == status)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def decide_appeal(self, appeal_id: int, status: str, by: str, at: datetime, decision: str) -> None:
        a = t.evaluation_appeals.c
        self.conn.execute(
            update(t.evaluation_appeals)
            .where(a.id == appeal_id)
            .values(status=status, decided_by=by, decided_at=at, decision=decision)
        )

    def add_audit(self, row: dict[str, Any]) -> None:
        self.conn.execute(t.evaluation_audit.insert().values(**row))

    def audit(self, period_key: str) -> list[dict[str, Any]]:
        a = t.evaluation_audit.c
        stmt = select(t.evaluation_audit).where(a.period_key == period_key).order_by(a.id)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    # ----- campaigns -----------------------------------------------------------------------------
    def campaigns(self) -> list[dict[str, Any]]:
        c = t.campaigns.c
        return [json.loads(body) for (body,) in self.conn.execute(select(c.body).order_by(c.code))]

    def put_campaign(self, code: str, body: dict[str, Any], at: datetime, by: str) -> None:
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        upsert(self.conn, t.campaigns, [{"code": code, "body": text, "added_at": at, "added_by": by}], ["code"])

    def add_progress(self, row: dict[str, Any]) -> None:
        self.conn.execute(t.campaign_progress.insert().values(**row))

    def progress_amounts(self, code: str, first: date, last: date) -> list[tuple[str, float, int]]:
        """(unit, amount, record id) of a campaign's reported work done between two local dates."""
        p = t.campaign_progress.c
        stmt = (
            select(p.unit_code, p.amount, p.id)
            .where(p.campaign_code == code, p.done_on >= first, p.done_on <= last)
            .order_by(p.id)
        )
        return [(u, a, i) for u, a, i in self.conn.execute(stmt)]

    def campaign_cases(
        self, classes: Sequence[tuple[str, str]], start: datetime, end: datetime
    ) -> list[tuple[str, str, str, tuple[str, str, str, str], datetime, datetime | None, str, int, datetime | None]]:
        """Cases of the given (kind, class prefix) reported in [start, end) and filed (or self-disposed):
        (case_no, kind, class, (city, district, street, community), reported_at, closed_at by ``end``,
        department of the last dispatch, urges, last disposal: feedback or self-disposal), read from the log."""
        c, lg = t.cases.c, t.case_log.c
        action = lg.action
        in_class = or_(*(and_(c.kind == kind, c.class_code.startswith(prefix)) for kind, prefix in classes))
        stmt = (
            select(
                c.case_no, c.kind, c.class_code, c.district_code, c.street_code, c.community_code, c.reported_at,
                func.min(case((action == "close", lg.at))).label("closed_at"),
                func.max(case((action.in_(("feedback", "self_dispose")), lg.at))).label("disposed_at"),
                func.max(case((action == "dispatch", self._seq_tagged(self._json_department())))).label("dept"),
                _sum(action == "urge").label("urges"),
                _sum(action.in_(FILING_ACTIONS)).label("filed"),
            )
            .select_from(t.cases.join(t.case_log, and_(lg.case_id == c.id, lg.at < end)))
            .where(c.reported_at >= start, c.reported_at < end, in_class)
            .group_by(c.id)
            .order_by(c.case_no)
        )  # fmt: skip
        out = []
        for r in self.conn.execute(stmt):
            if not r.filed:
                continue
            regions = (r.district_code[:4] + "00", r.district_code, r.street_code, r.community_code)
            out.append((r.case_no, r.kind, r.class_code, regions, r.reported_at, _aware(r.closed_at),
                        (r.dept or "")[_PAD:], int(r.urges), _aware(r.disposed_at)))  # fmt: skip
        return out

    def overdue_open_cases(
        self, classes: Sequence[tuple[str, str]], states: Sequence[str]
    ) -> list[tuple[str, str, str, tuple[str, str, str, str]]]:
        """(case_no, kind, class, regions) of open, overdue cases of the given (kind, class prefix)."""
        c = t.cases.c
        in_class = or_(*(and_(c.kind == kind, c.class_code.startswith(prefix)) for kind, prefix in classes))
        stmt = (
            select(c.case_no, c.kind, c.class_code, c.district_code, c.street_code, c.community_code)
            .where(in_class, c.overdue.is_(True), c.state.in_(list(states)))
            .order_by(c.case_no)
        )
        return [(n, k, code, (d[:4] + "00", d, s, m)) for n, k, code, d, s, m in self.conn.execute(stmt)]

    # ----- history import ------------------------------------------------------------------------
    def existing_case_nos(self, case_nos: Sequence[str]) -> set[str]:
        c = t.cases.c
        found: set[str] = set()
        for i in range(0, len(case_nos), 1000):
            found |= set(self.conn.scalars(select(c.case_no).where(c.case_no.in_(case_nos[i : i + 1000]))))
        return found

    # ----- kept up by the handler of case events (evaluation/handlers.py) -----------------------------
    def case_state(self, case_id: int) -> TallyState | None:
        """A case's tally state as of its last committed log row; None when none was kept (a bulk load)."""
        if (cached := self._states.get(case_id)) is not None:
            return cached
        cursor = self._cursor()
        try:
            cursor.execute(_GET_STATE.format(mark=self._mark), (case_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else TallyState.from_list(json.loads(row[0]))

    def forget(self) -> None:
        """Drop the states cached in this transaction (it was rolled back)."""
        self._states = {}

    def put_case_states(self, states: Sequence[tuple[int, TallyState]]) -> None:
        """Keep cases' tally states (insert or replace)."""
        if states:
            self._states.update(states)
            rows = [(case_id, json.dumps(state.to_list(), ensure_ascii=False)) for case_id, state in states]
            cursor = self._cursor()
            try:
                cursor.executemany(_PUT_STATE.format(mark=self._mark), rows)
            finally:
                cursor.close()

    def add_tallies(self, deltas: dict[Key, int]) -> None:
        """Add the deltas to the monthly tallies (in key order, so concurrent writers never deadlock)."""
        if deltas:
            cursor = self._cursor()
            try:
                cursor.executemany(_ADD_TALLY.format(mark=self._mark), [(*key, n) for key, n in sorted(deltas.items())])
            finally:
                cursor.close()

    def _cursor(self) -> Any:
        """A cursor of the driver itself: these run with every case transaction, and skipping the statement
        layer halves their cost."""
        return self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


_ADD_TALLY = (
    "INSERT INTO evaluation_tallies (month, object_type, code, name, n) "
    "VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) "
    "ON CONFLICT (month, object_type, code, name) DO UPDATE SET n = evaluation_tallies.n + excluded.n"
)
_GET_STATE = "SELECT state FROM evaluation_case_states WHERE case_id = {mark}"
_PUT_STATE = (
    "INSERT INTO evaluation_case_states (case_id, state) VALUES ({mark}, {mark}) "
    "ON CONFLICT (case_id) DO UPDATE SET state = excluded.state"
)
