"""Import a ledger of historical cases from another system, so that past months can be evaluated.

One row per case with the time of each step (see docs/evaluation.md for the columns). Each row becomes
a case and its hash-chained log, as if the loop had run at those times, written by the actor
``import``; nothing is written unless every row passes (or the invalid ones are skipped on request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from xiuhua.cases.domain.case import GENESIS, Case, LogEntry, StepRecord, Urgency
from xiuhua.cases.domain.events import CasesImported
from xiuhua.cases.domain.workflow import Action, Source, State, Step
from xiuhua.cases.ports import HistoryImportUnitOfWork
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Progress, no_progress
from xiuhua.org.domain.model import ClassKind, OrgKind
from xiuhua.org.domain.standards import code_from_2013
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row

IMPORT_ACTOR = "import"
TZ = ZoneInfo("Asia/Shanghai")
REQUIRED = ("case_no", "source", "kind", "class_code", "district_code", "street_code", "community_code", "lon",
            "lat", "reported_at")  # fmt: skip
TIMES = ("reported_at", "accepted_at", "verified_at", "filed_at", "dispatched_at", "disposed_at", "checked_at",
         "closed_at")  # fmt: skip
COLUMNS = (*REQUIRED, "grid_code", "area_class", "address", "description", "urgency", "department_code",
           "accepted_at", "verified_at", "filed_at", "dispatched_at", "disposal_due_at", "disposed_at",
           "checked_at", "closed_at", "voided_at", "repeat_of")  # fmt: skip
EVENT_COLUMNS = ("case_no", "event", "at")
EVENTS = {"rework": "rework", "返工": "rework", "urge": "urge", "督办": "urge", "extension": "extension",
          "延期": "extension", "park": "park", "挂账": "park", "resume": "resume", "恢复": "resume",
          "挂账恢复": "resume"}  # fmt: skip
"""What a second file may add to a case's history (one row per event): 返工, 督办, 延期, 挂账 and its end."""
_NAMES = "返工、督办、延期、挂账、恢复"
_DISPOSING = "派遣之后、处置之前"
_WHEN = {"urge": "立案之后、结案之前", "resume": "挂账期间", "rework": _DISPOSING, "extension": _DISPOSING,
         "park": _DISPOSING}  # fmt: skip
_AFTER_FILING = {State.FILED, State.DISPATCHED, State.DISPOSED, State.CHECKING, State.CHECKED, State.PARKED}
_SOURCES = {**{s.value: s for s in Source}, **{s.label: s for s in Source}, "监督员": Source.SUPERVISOR}


@dataclass(frozen=True, slots=True)
class HistoricEvent:
    row: int
    """Its row in the events file."""
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HistoricCase:
    case: Case
    log: list[LogEntry]
    row: int


def _time(row: Row, column: str) -> datetime | None:
    text = row.get(column)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise InvalidInputError("history.bad_time", f"{column}“{text}”不是有效时间，如 2025-10-08 09:30") from None
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


def _event(row: Row) -> tuple[str, HistoricEvent]:
    for column in EVENT_COLUMNS:
        if not row.get(column):
            raise InvalidInputError("history.missing", f"事件表缺少{column}")
    kind = EVENTS.get(row.get("event"))
    if kind is None:
        raise InvalidInputError("history.bad_event", f"事件“{row.get('event')}”无效，可用：{_NAMES}")
    at = _time(row, "at")
    assert at is not None
    return row.get("case_no"), HistoricEvent(row.number, kind, at)


def _parse(row: Row, known: dict[str, Any]) -> HistoricCase:
    for column in REQUIRED:
        if not row.get(column):
            raise InvalidInputError("history.missing", f"缺少{column}")
    case_no = row.get("case_no")
    if len(case_no) > 20:
        raise InvalidInputError("history.bad_case_no", f"案件编号“{case_no}”超过 20 个字符")
    source = _SOURCES.get(row.get("source"))
    if source is None:
        names = "、".join(s.value for s in Source)
        raise InvalidInputError("history.bad_source", f"来源“{row.get('source')}”无效，可用：{names}")
    kind = ClassKind.parse(row.get("kind"))
    code = row.get("class_code")
    if len(code) == 4 and code.isdigit():
        code = code_from_2013(kind, code) or code  # a 2013 subclass code from an older system
    if (kind, code) not in known["classes"]:
        raise InvalidInputError("history.unknown_class", f"未知的{kind.label}类别“{code}”")
    for column in ("district_code", "street_code", "community_code"):
        if row.get(column) not in known["regions"]:
            raise InvalidInputError("history.unknown_region", f"{column}“{row.get(column)}”不在区划表中")
    for child, parent in (("street_code", "district_code"), ("community_code", "street_code")):
        if known["regions"][row.get(child)] != row.get(parent):  # else the regional roll-ups would disagree
            raise InvalidInputError(
                "history.region_mismatch", f"{child}“{row.get(child)}”不属于 {parent}“{row.get(parent)}”"
            )
    try:
        location = Location(float(row.get("lon")), float(row.get("lat")), row.get("address"), row.get("district_code"),
                            row.get("street_code"), row.get("community_code"), row.get("grid_code") or None,
                            row.get("area_class") or None)  # fmt: skip
    except ValueError:
        raise InvalidInputError("history.bad_location", "经纬度应为数字") from None
    urgency = Urgency.URGENT if row.get("urgency") in ("urgent", "紧急") else Urgency.NORMAL
    times = {c: _time(row, c) for c in (*TIMES, "voided_at", "disposal_due_at")}
    present = [(c, times[c]) for c in TIMES if times[c] is not None]
    for (c1, t1), (c2, t2) in pairwise(present):
        if t2 < t1:  # type: ignore[operator]
            raise InvalidInputError("history.bad_order", f"{c2} 早于 {c1}")
    voided, closed = times["voided_at"], times["closed_at"]
    if voided and (times["filed_at"] or closed):
        raise InvalidInputError("history.void_and_file", "已作废的案件不能同时有立案或结案时间")
    if voided and (times["dispatched_at"] or times["disposed_at"]):
        raise InvalidInputError("history.void_and_dispatch", "已作废的案件不能同时有派遣或处置时间")
    if voided and voided < times["reported_at"]:  # type: ignore[operator]
        raise InvalidInputError("history.bad_order", "voided_at 早于 reported_at")
    if closed and not (times["filed_at"] or source is Source.SELF_DISPOSAL):
        raise InvalidInputError("history.closed_unfiled", "结案的案件须有立案时间（自处理除外）")
    department = row.get("department_code") or None
    if times["dispatched_at"] and not department:
        raise InvalidInputError("history.no_department", "有派遣时间的案件须填写 department_code")
    if department and known["orgs"].get(department) is not OrgKind.DEPARTMENT:
        raise InvalidInputError("history.unknown_department", f"处置部门 {department} 不存在")
    if times["disposed_at"] and not times["dispatched_at"] and source is not Source.SELF_DISPOSAL:
        raise InvalidInputError("history.bad_order", "有处置时间的案件须有派遣时间")
    if times["dispatched_at"] and not times["filed_at"]:
        raise InvalidInputError("history.dispatched_unfiled", "派遣的案件须有立案时间")
    due, dispatched = times["disposal_due_at"], times["dispatched_at"]
    if due and not dispatched:
        raise InvalidInputError("history.bad_deadline", "有处置时限的案件须有派遣时间")
    if due and dispatched and due <= dispatched:
        raise InvalidInputError("history.bad_deadline", "disposal_due_at 不晚于 dispatched_at：处置时限应在派遣之后")
    events = sorted(known["events"].get(case_no, []), key=lambda e: (e.at, e.row))
    if (repeat_of := row.get("repeat_of") or None) == case_no:
        raise InvalidInputError("history.unknown_repeat", "repeat_of 不能是本案自己")
    built = _build(row.number, case_no, source, kind, code, location, urgency, row.get("description"), department,
                   times, events)  # fmt: skip
    built.case.repeat_of = repeat_of
    return built


def _build(number: int, case_no: str, source: Source, kind: ClassKind, code: str, location: Location,
           urgency: Urgency, description: str, department: str | None,
           times: dict[str, datetime | None], events: Sequence[HistoricEvent] = ()) -> HistoricCase:  # fmt: skip
    reported = times["reported_at"]
    assert reported is not None
    case = Case(case_no, source, kind, code, location, description or "历史案件", urgency, reported, IMPORT_ACTOR)
    case.needs_verification = source.needs_verification
    log: list[LogEntry] = []
    state: State | None = None
    steps: list[StepRecord] = []

    def add(at: datetime, action: Action, target: State, step: Step | None = None, due: datetime | None = None,
            data: dict[str, Any] | None = None) -> None:  # fmt: skip
        nonlocal state
        on_time = None if due is None else at <= due
        prev = log[-1].hash if log else GENESIS
        entry = LogEntry(len(log) + 1, at, IMPORT_ACTOR, Role.SYSTEM, action, state, target, "历史导入", (),
                         data or {}, step, due, on_time, prev)  # fmt: skip
        log.append(replace(entry, hash=entry.computed_hash(case_no)))
        if step is not None:
            entered = steps[-1].done_at if steps and steps[-1].done_at else reported
            steps.append(StepRecord(step, entered, due, at, action))
        state = target

    pending = list(events)

    def happen(until: datetime | None) -> None:
        """Write the events before ``until`` (all that are left when None), each as the loop writes it."""
        while pending and (until is None or pending[0].at < until):
            e = pending.pop(0)
            if e.kind == "urge" and state in _AFTER_FILING:
                add(e.at, Action.URGE, state)
            elif e.kind == "rework" and state is State.DISPATCHED:  # the failed disposal is taken at the rework
                add(e.at, Action.FEEDBACK, State.DISPOSED, Step.DISPOSE, times["disposal_due_at"])
                add(e.at, Action.SEND_CHECK, State.CHECKING, Step.SEND_CHECK)
                add(e.at, Action.CHECK_FAIL, State.CHECKED, Step.CHECK)
                add(e.at, Action.REWORK, State.DISPATCHED, Step.CLOSE)
            elif e.kind == "extension" and state is State.DISPATCHED:
                add(e.at, Action.REQUEST_EXTENSION, State.EXTENSION_REQUESTED)
                add(e.at, Action.APPROVE, State.DISPATCHED)
            elif e.kind == "park" and state is State.DISPATCHED:
                add(e.at, Action.REQUEST_PARK, State.PARK_REQUESTED)
                add(e.at, Action.APPROVE, State.PARKED)
            elif e.kind == "resume" and state is State.PARKED:
                add(e.at, Action.RESUME, State.DISPATCHED)
            else:
                raise InvalidInputError(
                    "history.event_order", f"事件表第 {e.row} 行：{e.at:%Y-%m-%d %H:%M} 的{e.kind}须在{_WHEN[e.kind]}"
                )

    def main(at: datetime, action: Action, target: State, step: Step | None = None, due: datetime | None = None,
             data: dict[str, Any] | None = None) -> None:  # fmt: skip
        """A row of the ledger's own times, after the events that came before it."""
        happen(at)
        if state is State.PARKED:
            raise InvalidInputError("history.event_order", "挂账的案件须先恢复（事件表 resume）才能继续办理")
        add(at, action, target, step, due, data)

    add(reported, Action.REPORT, State.REPORTED)
    t = times
    if source is Source.SELF_DISPOSAL:
        main(reported, Action.SELF_DISPOSE, State.SELF_DISPOSED, Step.ACCEPT)
        if t["closed_at"]:
            main(t["closed_at"], Action.CLOSE, State.CLOSED, Step.CLOSE)
    elif t["voided_at"]:
        main(t["voided_at"], Action.VOID, State.VOIDED, Step.ACCEPT)
    else:
        if t["verified_at"] and source.needs_verification:
            main(t["accepted_at"] or t["verified_at"], Action.SEND_VERIFY, State.VERIFYING, Step.ACCEPT)
            main(t["verified_at"], Action.VERIFY, State.ACCEPTED, Step.VERIFY)
            case.verified = True
        elif t["accepted_at"] or t["filed_at"]:
            main(t["accepted_at"] or t["filed_at"], Action.ACCEPT, State.ACCEPTED, Step.ACCEPT)  # type: ignore[arg-type]
        if t["filed_at"]:
            main(t["filed_at"], Action.FILE, State.FILED, Step.FILE)
        if t["dispatched_at"]:
            main(t["dispatched_at"], Action.DISPATCH, State.DISPATCHED, Step.DISPATCH, data={"department": department})
            case.department_code, case.dispatched_at = department, t["dispatched_at"]
        if t["disposed_at"]:
            main(t["disposed_at"], Action.FEEDBACK, State.DISPOSED, Step.DISPOSE, t["disposal_due_at"])
        if t["checked_at"]:
            main(t["checked_at"], Action.SEND_CHECK, State.CHECKING, Step.SEND_CHECK)
            main(t["checked_at"], Action.CHECK_PASS, State.CHECKED, Step.CHECK)
            case.check_passed = True
        if t["closed_at"]:
            if not t["checked_at"]:
                main(t["closed_at"], Action.SEND_CHECK, State.CHECKING, Step.SEND_CHECK)
                main(t["closed_at"], Action.CHECK_PASS, State.CHECKED, Step.CHECK)
            main(t["closed_at"], Action.CLOSE, State.CLOSED, Step.CLOSE)
    happen(None)  # what came after the last step: urges of an open case, a park not yet resumed
    assert state is not None
    case.state = state
    case.closed_at = t["closed_at"] or t["voided_at"]
    case.steps = steps
    case.log_seq, case.log_head, case.new_log = len(log), log[-1].hash, log
    return HistoricCase(case, log, number)


@dataclass(frozen=True, slots=True)
class ImportCases:
    rows: Sequence[Row]
    skip_invalid: bool = False
    events: Sequence[Row] = ()
    """Rows of the events file (case_no, event, at): 返工, 督办, 延期, 挂账 and 恢复 of the cases in ``rows``."""


def import_cases(cmd: ImportCases, uow: HistoryImportUnitOfWork, progress: Progress = no_progress) -> ImportReport:
    """Validate every row, then write all cases and their logs in one transaction (or none)."""
    rows = list(cmd.rows)
    check_columns(rows, *REQUIRED)
    if cmd.events:
        check_columns(list(cmd.events), *EVENT_COLUMNS)
    found, event_errors = parse_rows(cmd.events, _event)
    events: dict[str, list[HistoricEvent]] = {}
    for _, (case_no, event) in found:
        events.setdefault(case_no, []).append(event)
    in_file = {r.get("case_no") for r in rows}
    errors = [RowError(e.row, e.code, f"事件表：{e.message}") for e in event_errors]
    errors += [RowError(e.row, "history.event_unknown_case", f"事件表：台账中没有案件 {no}")
               for no, es in events.items() if no not in in_file for e in es]  # fmt: skip
    with uow:
        known = {
            "classes": {(c.kind, c.code) for c in uow.catalog.classes()},
            "regions": {r.code: r.parent_code for r in uow.regions.all()},
            "orgs": {o.code: o.kind for o in uow.organizations.all()},
            "events": events,
        }
        progress("校验历史案件", 0, len(rows))
        parsed, case_errors = parse_rows(rows, lambda r: _parse(r, known))
        errors += case_errors
        seen: dict[str, int] = {}
        links = {h.case.repeat_of for _, h in parsed if h.case.repeat_of}
        taken = uow.evaluation.existing_case_nos([h.case.case_no for _, h in parsed])
        stored = uow.evaluation.existing_case_nos(sorted(links - in_file)) if links else set()
        for row, item in parsed:
            if (link := item.case.repeat_of) and link not in in_file and link not in stored:
                errors.append(RowError(row.number, "history.unknown_repeat", f"repeat_of：案件 {link} 不在台账或库中"))
        kept: list[HistoricCase] = []
        for row, item in parsed:
            no = item.case.case_no
            if no in taken or no in seen:
                where = "库中已有" if no in taken else f"与第 {seen[no]} 行重复"
                errors.append(RowError(row.number, "history.duplicate_case", f"案件编号 {no} {where}"))
                continue
            seen[no] = row.number
            kept.append(item)
        skipped = settle(errors, cmd.skip_invalid)
        progress("写入历史案件", 0, len(kept))
        imported = tuple(h.case for h in kept)
        uow.cases.add_many(imported, progress)
        uow.cases.record(CasesImported(imported))  # the evaluation tallies them in this transaction
        uow.commit()
    progress("写入历史案件", len(kept), len(kept))
    return ImportReport(len(kept), skipped)
