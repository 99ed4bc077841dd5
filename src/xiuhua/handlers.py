"""The product's subscriptions: which handler answers which event, in the transaction that recorded it.

Every unit of work runs these at commit (``unit_of_work.py``); the composition root adds the commands, which
need a unit of work, a clock and the case policy to run with (``bootstrap.messagebus``).
"""

from __future__ import annotations

from xiuhua.cases.domain.events import CaseFlaggedOverdue, CaseReported, CasesImported, CaseTransitioned
from xiuhua.cases.services import outbox
from xiuhua.evaluation import handlers as evaluation
from xiuhua.kernel.bus import MessageBus


def event_bus() -> MessageBus:
    """A bus with the in-transaction handlers of case events: the outbox rows (the live stream) and the
    evaluation's monthly tallies, both written with the case change or not at all."""
    bus = MessageBus()
    for logged in (CaseReported, CaseTransitioned):
        bus.on(logged, outbox.record_case_logged)
        bus.on(logged, evaluation.tally_case_logged)
    bus.on(CaseFlaggedOverdue, outbox.record_case_overdue)
    bus.on(CasesImported, evaluation.tally_cases_imported)
    return bus
