"""The tally side of the evaluation's contract (evaluation.ports): what the tally handlers rely on, and the
tallies a case's events leave behind through the unit of work, the same on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.contract.test_cases import ACCEPTOR, T0, TIMING, add, opened
from xiuhua.cases.domain.case import Params
from xiuhua.cases.domain.workflow import Action
from xiuhua.evaluation.domain.tallies import Key, TallyState, advance


def test_a_case_state_round_trips_and_is_replaced(uow: Any) -> None:
    add(uow, opened("20260303000001"))
    with uow:
        case = uow.cases.get("20260303000001")
        assert uow.evaluation.case_state(case.id) is not None  # the report's own event put it there
        uow.evaluation.put_case_states([(case.id, TallyState(reported_month="2026-02", filed=3))])
        uow.commit()
    with uow:
        assert uow.evaluation.case_state(case.id) == TallyState(reported_month="2026-02", filed=3)
        assert uow.evaluation.case_state(case.id + 1000) is None


def test_tallies_add_up_and_counts_back_at_zero_are_left_out(uow: Any) -> None:
    with uow:
        uow.evaluation.add_tallies({("2026-03", "department", "d1", "filed"): 2, ("2026-03", "region", "r1", "x"): 1})
        uow.evaluation.add_tallies({("2026-03", "department", "d1", "filed"): 1, ("2026-03", "region", "r1", "x"): -1})
        uow.evaluation.add_tallies({("2026-04", "department", "d1", "filed"): 5})
        uow.commit()
    with uow:
        assert sorted(uow.evaluation.tallies("2026-03")) == [("department", "d1", "filed", 3)]


def test_the_tallies_left_by_case_events_equal_the_fold_of_the_whole_logs(uow: Any) -> None:
    add(uow, opened("20260303000001"), opened("20260303000002"))
    with uow:
        case = uow.cases.get("20260303000001")
        case.apply(Action.ACCEPT, ACCEPTOR, T0, TIMING, Params())
        uow.cases.save(case)
        uow.commit()
    with uow:
        month = sorted(uow.evaluation.tallies("2026-03"))
        folded: Counter[Key] = Counter()
        for case_no in ("20260303000001", "20260303000002"):
            folded.update(advance(TallyState(), uow.cases.get(case_no), uow.cases.log(case_no))[1])
    assert month and month == sorted((k[1], k[2], k[3], n) for k, n in folded.items() if k[0] == "2026-03" and n)
    with uow:
        left = uow.cases.get("20260303000002")
        left.apply(Action.ACCEPT, ACCEPTOR, T0, TIMING, Params())
        uow.cases.save(left)  # never committed: its tallies must not stay
    with uow:
        assert sorted(uow.evaluation.tallies("2026-03")) == month
