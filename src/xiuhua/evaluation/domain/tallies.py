"""Monthly tallies: what each case has added to each month's evaluation counts, kept up as its log grows.

A month's evaluation counts are sums over cases of per-case contributions (docs/evaluation.md says which
case counts where). A case's contribution to a month depends only on its log up to that month's end, and
log rows are written in time order, so a new row can change only the contribution to its own month (one
exception: a late disposal's 超期 goes to the month of its deadline, see ``late_disposal``). Each
case therefore carries a small state folded from its log (``TallyState``); a new row's effect is the
contribution after it minus the contribution before it, plus the row's own event counts (a post's
actions, a department's returns). Summed per (month, object type, code, count), these deltas are the
tallies that a month's evaluation reads instead of the whole log. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from xiuhua.cases.domain.case import Case, LogEntry
from xiuhua.cases.domain.workflow import Step

TZ = ZoneInfo("Asia/Shanghai")
PUBLIC_SOURCES = ("public", "hotline")
PATROL_SOURCES = ("supervisor", "self_disposal")
FILING_ACTIONS = ("file", "self_dispose")
TIMER = "system"  # the deadline sweep, which urges cases overdue past the threshold by itself
NOT_STAFF = (TIMER, "import")  # the timer sweep and history imports act, but hold no post
HOTSPOT_DEGREES = 0.001  # about 100 m: repeated problems in one such cell form a hot spot

# Tally object types beyond the evaluated ones: a place (district|street|community|grid) rolls up into the
# four region levels; a hot spot is a cell and class; "missed" counts public reports per unit grid, which
# become the 漏报 of the grid's supervisor.
PLACE, HOTSPOT, MISSED = "place", "hotspot", "missed"

# Log-row counts per post: count name → (actions, on time only)
EVENT_COUNTS: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = {
    "supervisor": {
        "verify_tasks": (("verify", "refute"), False),
        "verify_on_time": (("verify", "refute"), True),
        "check_tasks": (("check_pass", "check_fail"), False),
        "check_on_time": (("check_pass", "check_fail"), True),
    },
    "acceptor": {
        "accepted": (("accept", "send_verify"), False),
        "verify_sends": (("send_verify",), False),
        "verify_sends_on_time": (("send_verify",), True),
        "check_sends": (("send_check",), False),
        "check_sends_on_time": (("send_check",), True),
    },
    "shift_leader": {
        "filings": (("file",), False),
        "filings_on_time": (("file",), True),
        "closings": (("close",), False),
        "closings_on_time": (("close",), True),
    },
    "dispatcher": {
        "dispatches": (("dispatch",), False),
        "dispatches_on_time": (("dispatch",), True),
    },
}

EVENTS_OF: dict[str, list[tuple[str, str, bool]]] = {}  # action → (post, count, on time only)
for _kind, _spec in EVENT_COUNTS.items():
    for _name, (_actions, _on_time_only) in _spec.items():
        for _action in _actions:
            EVENTS_OF.setdefault(_action, []).append((_kind, _name, _on_time_only))

REGION_COUNTS = ("filed", "public_verified", "due_to_close", "timed_due_to_close", "closed", "closed_on_time",
                 "overdue_closed", "timing_unknown", "reworked", "returned", "extended", "parked", "urged",
                 "special_urged", "self_disposed", "repeated")  # fmt: skip
DEPARTMENT_COUNTS = ("dispatched", "to_dispose", "timed_to_dispose", "disposed", "disposed_on_time", "timing_unknown",
                     "closed", "reworked", "overdue", "extended", "parked", "urged", "special_urged",
                     "returned")  # fmt: skip
POST_COUNTS: dict[str, tuple[str, ...]] = {
    "supervisor": (*EVENT_COUNTS["supervisor"], "reports", "valid_reports", "missed", "found"),
    "acceptor": (*EVENT_COUNTS["acceptor"],),
    "shift_leader": (*EVENT_COUNTS["shift_leader"], "filed_cases", "accurate_filings"),
    "dispatcher": (*EVENT_COUNTS["dispatcher"], "first_dispatches", "accurate_dispatches"),
}

Key = tuple[str, str, str, str]
"""(month, object type, code, count)."""


def month_of(at: datetime) -> str:
    """The local (Asia/Shanghai) month of an instant, as YYYY-MM."""
    return _month_of_hour(int(at.timestamp()) // 3600)


@lru_cache(maxsize=1 << 12)
def _month_of_hour(hour: int) -> str:
    """Per hour since the epoch: the zone's offsets (daylight time included, 1986–1991) are whole hours."""
    return f"{datetime.fromtimestamp(hour * 3600, TZ):%Y-%m}"


def place_key(district: str, street: str, community: str, grid: str | None) -> str:
    return f"{district}|{street}|{community}|{grid or ''}"


def hotspot_key(lon: float, lat: float, class_code: str) -> str:
    """The ~100 m cell of a point and a class: "x|y|class" with x, y the cell's integer indices."""
    return f"{math.floor(lon / HOTSPOT_DEGREES)}|{math.floor(lat / HOTSPOT_DEGREES)}|{class_code}"


@dataclass(frozen=True, slots=True)
class TallyState:
    """What a case's log says so far, as far as the evaluation counts care (and where the case is)."""

    place: str = ""
    grid: str = ""
    source: str = ""
    reporter: str = ""
    hotspot: str = ""
    repeat: bool = False
    reported_month: str = ""
    filed_month: str = ""  # month of the last filing (立案 or 自处理)
    dispatch_month: str = ""  # month of the last dispatch
    department: str = ""  # department of the last dispatch
    first_dispatcher: str = ""
    filer: str = ""  # who did the last 立案
    filed: int = 0
    self_disposed: int = 0
    closed: int = 0
    verified: int = 0
    feedbacks: int = 0
    late_feedbacks: int = 0
    reworks: int = 0
    returns: int = 0  # returns granted to a department (回退 approved)
    returns_to_acceptor: int = 0  # filed cases sent back by the dispatcher
    extensions: int = 0
    parks: int = 0
    resumes: int = 0
    urges: int = 0
    untimed_feedbacks: int = 0  # dispositions whose step had no deadline (timeliness unknown)
    special_urges: int = 0  # 专项督办: urges by a person (a leader, a campaign), not by the deadline timer

    def to_list(self) -> list[Any]:
        """The values in field order (compact to store with the case, and cheap to write and read)."""
        return [getattr(self, name) for name in _FIELDS]

    @classmethod
    def from_list(cls, values: list[Any]) -> TallyState:
        return cls(*values)


_FIELDS = tuple(f.name for f in fields(TallyState))


# Log actions that add one to a counter of the state, and approvals by the request they grant
_COUNTED = {"close": "closed", "verify": "verified", "feedback": "feedbacks", "rework": "reworks",
            "resume": "resumes", "urge": "urges"}  # fmt: skip
_GRANTED = {"return_requested": "returns", "extension_requested": "extensions", "park_requested": "parks"}


def fold(state: TallyState, case: Case, entry: LogEntry, month: str) -> TallyState:
    """The state after one more log row of the case, written in ``month``."""
    action = entry.action.value
    source = entry.from_state.value if entry.from_state else ""
    changes: dict[str, Any] = {} if state.place else _where(case)  # fixed at report: taken once
    if counter := _COUNTED.get(action):
        changes[counter] = getattr(state, counter) + 1
    if action == "feedback" and entry.on_time is False:
        changes["late_feedbacks"] = state.late_feedbacks + 1
    if action == "feedback" and entry.on_time is None:
        changes["untimed_feedbacks"] = state.untimed_feedbacks + 1
    if action == "urge" and entry.actor != TIMER:
        changes["special_urges"] = state.special_urges + 1
    if action == "approve" and (counter := _GRANTED.get(source)):
        changes[counter] = getattr(state, counter) + 1
    if action == "return" and source == "filed":
        changes["returns_to_acceptor"] = state.returns_to_acceptor + 1
    if action in FILING_ACTIONS:
        changes["filed"], changes["filed_month"] = state.filed + 1, month
    if action == "self_dispose":
        changes["self_disposed"] = state.self_disposed + 1
    if action == "file":
        changes["filer"] = entry.actor
    if action == "dispatch":
        changes["dispatch_month"] = month
        changes["department"] = str(entry.data.get("department") or "")
        changes["first_dispatcher"] = state.first_dispatcher or entry.actor
    return replace(state, **changes) if changes else state


def _where(case: Case) -> dict[str, Any]:
    loc = case.location
    return {
        "place": place_key(loc.district_code, loc.street_code, loc.community_code, loc.grid_code),
        "grid": loc.grid_code or "",
        "source": case.source.value,
        "reporter": case.reporter,
        "hotspot": hotspot_key(loc.lon, loc.lat, case.class_code),
        "repeat": case.repeat_of is not None,
        "reported_month": month_of(case.reported_at),
    }


def contribution(state: TallyState, month: str) -> Counter[tuple[str, str, str]]:
    """The case's counts in ``month`` as of the state: (object type, code, count) → 1.

    Every rate's numerator is a subset of its denominator, case by case (the rates of ``model.INDICATORS``; property
    tests check it on random histories): a case disposed or closed is due, parked (挂账) or not,
    and one whose timeliness is unknown (its step had no deadline) is in neither side of an on-time rate.
    """
    out: Counter[tuple[str, str, str]] = Counter()
    parked_now = state.parks > state.resumes  # parked (挂账): not yet due
    late = state.late_feedbacks > 0
    unknown = state.untimed_feedbacks > 0 and not late  # disposed, but against no deadline
    closed = state.closed > 0

    def add(kind: str, code: str, flags: dict[str, bool]) -> None:
        for name, flag in flags.items():
            if flag:
                out[(kind, code, name)] += 1

    if state.filed_month == month:
        add(PLACE, state.place, {
            "filed": True,
            "public_verified": state.source in PUBLIC_SOURCES and state.verified > 0,
            "due_to_close": closed or not parked_now,
            "timed_due_to_close": (closed or not parked_now) and not unknown,
            "closed": closed,
            "closed_on_time": closed and not late and not unknown,
            "overdue_closed": closed and late,
            "timing_unknown": unknown,
            "reworked": state.reworks > 0,
            "returned": state.returns > 0,
            "extended": state.extensions > 0,
            "parked": state.parks > 0,
            "urged": state.urges > 0,
            "special_urged": state.special_urges > 0,
            "self_disposed": state.self_disposed > 0,
            "repeated": state.repeat,
        })  # fmt: skip
        add(HOTSPOT, state.hotspot, {"filed": True, "repeated": state.repeat})
        if state.filer:
            add("shift_leader", state.filer, {"filed_cases": True, "accurate_filings": state.returns_to_acceptor == 0})
    if state.dispatch_month == month and state.department:
        disposed = state.feedbacks > 0
        due = disposed or closed or not parked_now
        add("department", state.department, {
            "dispatched": True,
            "to_dispose": due,
            "timed_to_dispose": due and not unknown,
            "disposed": disposed,
            "disposed_on_time": disposed and not late and not unknown,
            "timing_unknown": unknown,
            "closed": closed,
            "reworked": disposed and state.reworks > 0,
            "extended": state.extensions > 0,
            "parked": state.parks > 0,
            "urged": state.urges > 0,
            "special_urged": state.special_urges > 0,
        })  # fmt: skip
    if state.dispatch_month == month and state.first_dispatcher:
        add("dispatcher", state.first_dispatcher, {"first_dispatches": True, "accurate_dispatches": state.returns == 0})
    if state.reported_month == month:
        if state.source in PATROL_SOURCES and state.reporter:
            add("supervisor", state.reporter, {"reports": True, "valid_reports": state.filed > 0})
        if state.source in PUBLIC_SOURCES and state.verified > 0 and state.grid:
            add(MISSED, state.grid, {"missed": True})
    return out


def events(entry: LogEntry) -> Counter[tuple[str, str, str]]:
    """The row's own counts: a post's actions, and a return granted to a department."""
    out: Counter[tuple[str, str, str]] = Counter()
    action = entry.action.value
    if entry.actor not in NOT_STAFF:
        for kind, name, on_time_only in EVENTS_OF.get(action, ()):
            if not on_time_only or entry.on_time is True:
                out[(kind, entry.actor, name)] += 1
    returned = action == "approve" and entry.from_state is not None and entry.from_state.value == "return_requested"
    if returned and (department := entry.data.get("department")):
        out[("department", str(department), "returned")] += 1
    return out


def late_disposal(state: TallyState, entry: LogEntry) -> Key | None:
    """超期: a row that ends a disposal step after its deadline counts once for the department it was
    dispatched to, in the month the deadline fell (not the month of the row): a department holding a late
    case past the month's end is counted in the month it became late, whenever it disposes of it. (The steps
    still open past their deadline are counted at evaluation, from the cases themselves.)"""
    if entry.step is not Step.DISPOSE or entry.on_time is not False or entry.step_due_at is None:
        return None
    return (month_of(entry.step_due_at), "department", state.department, "overdue") if state.department else None


def advance(state: TallyState, case: Case, entries: Iterable[LogEntry]) -> tuple[TallyState, Counter[Key]]:
    """Fold new log rows (in order) into the state; returns the new state and the tally deltas."""
    deltas: Counter[Key] = Counter()
    for entry in entries:
        if late := late_disposal(state, entry):
            deltas[late] += 1
        month = month_of(entry.at)
        after = fold(state, case, entry, month)
        change = events(entry)
        if after is not state:  # most rows (accept, send_check, check_pass…) change no state: only their events
            change.update(contribution(after, month))
            if month in (state.filed_month, state.dispatch_month, state.reported_month):  # else it counted nothing
                change.subtract(contribution(state, month))
        for (kind, code, name), n in change.items():
            if n:
                deltas[(month, kind, code, name)] += n
        state = after
    return state, Counter({k: n for k, n in deltas.items() if n})
