"""The timer sweep: overdue flags, automatic urging, and cases left undispatched overnight.

Every rule is a query on stored deadlines and flags, so running the sweep twice changes nothing the
second time and a restart loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xiuhua.cases.domain.case import Params
from xiuhua.cases.domain.events import CaseFlaggedOverdue
from xiuhua.cases.domain.workflow import Action, State, transition_for
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.errors import ConflictError
from xiuhua.kernel.ports import Clock

AUTO_URGE_REASON = "超期自动督办"
URGEABLE = tuple(s for s in State if transition_for(s, Action.URGE))


@dataclass
class SweepReport:
    overdue: int = 0
    urged: list[str] = field(default_factory=list)
    overnight: list[str] = field(default_factory=list)


def sweep(uow: CasesUnitOfWork, clock: Clock, policy: CasePolicy) -> SweepReport:
    """Mark overdue steps, urge cases overdue past the threshold once per step, flag 不让病症过夜."""
    now = clock.now()
    calendar = policy.timing.calendar
    report = SweepReport()
    with uow:
        marked = uow.cases.mark_overdue(now)
        report.overdue = len(marked)
        uow.cases.record(*(CaseFlaggedOverdue(mark, now) for mark in marked))
        to_urge = [
            case_no
            for case_no, due_at, urged_at, entered_at in uow.cases.overdue_in(URGEABLE)
            if due_at is not None
            and (urged_at is None or urged_at < entered_at)
            and now >= calendar.deadline(due_at, policy.auto_urge_after)
        ]
        report.overnight = [
            case_no
            for case_no, entered_at in uow.cases.waiting_since(State.FILED, "overnight")
            if calendar.working_day_end(entered_at) <= now
        ]
        uow.cases.set_flag(report.overnight, "overnight", True)
        uow.commit()
    for case_no in to_urge:
        try:
            with uow:
                case = uow.cases.get(case_no)
                if case is None or case.state not in URGEABLE:
                    continue
                case.apply(Action.URGE, SYSTEM_ACTOR, now, policy.timing, Params(reason=AUTO_URGE_REASON))
                case.auto_urged_at = now
                uow.cases.save(case)
                uow.commit()
            report.urged.append(case_no)
        except ConflictError:
            continue  # someone acted on it meanwhile; the next sweep looks again
    return report
