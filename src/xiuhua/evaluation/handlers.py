"""The evaluation's handlers of case events: the monthly tallies, kept exact with the case log.

Both run **in the transaction** of the change (``kernel/bus.py``): the unit of work hands them the events of
the cases it saved before it commits, so a case's log rows, its tally state and the tally deltas are written
together or not at all. A failure here undoes the case change too; a tally can never miss or double a row.
Each case's state (``TallyState``, folded from its log) is kept in ``evaluation_case_states``; a case that
has none (loaded around the use cases) gets it folded from its stored log first.
"""

from __future__ import annotations

from collections import Counter

from xiuhua.cases.domain.events import CaseLogged, CasesImported
from xiuhua.evaluation.domain.tallies import Key, TallyState, advance
from xiuhua.evaluation.ports import TallyUnitOfWork


def tally_case_logged(event: CaseLogged, uow: TallyUnitOfWork) -> None:
    """Add one new log row's effect to the tallies and fold it into the case's state."""
    case, entry = event.case, event.entry
    assert case.id is not None  # the repository has written the case
    state = TallyState() if entry.seq == 1 else uow.evaluation.case_state(case.id)
    if state is None:
        earlier = [e for e in uow.cases.log(case.case_no) if e.seq < entry.seq]
        state = advance(TallyState(), case, earlier)[0]
    state, deltas = advance(state, case, (entry,))
    uow.evaluation.put_case_states([(case.id, state)])
    uow.evaluation.add_tallies(deltas)


def tally_cases_imported(event: CasesImported, uow: TallyUnitOfWork) -> None:
    """The tallies and states of imported cases, from their whole logs, written in one go each."""
    states: list[tuple[int, TallyState]] = []
    deltas: Counter[Key] = Counter()
    for case in event.cases:
        assert case.id is not None
        state, change = advance(TallyState(), case, case.new_log)
        states.append((case.id, state))
        deltas.update(change)
    uow.evaluation.put_case_states(states)
    uow.evaluation.add_tallies(deltas)
