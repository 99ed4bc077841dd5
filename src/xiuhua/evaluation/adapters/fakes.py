"""An in-memory store of the evaluation's tally states and monthly tallies, for service tests without a
database; it passes the same contract tests as the SQL repository (tests/contract)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from xiuhua.evaluation.domain.tallies import Key, TallyState


class FakeTallies:
    def __init__(self) -> None:
        self.states: dict[int, TallyState] = {}
        self.counts: Counter[Key] = Counter()

    def case_state(self, case_id: int) -> TallyState | None:
        return self.states.get(case_id)

    def put_case_states(self, states: Sequence[tuple[int, TallyState]]) -> None:
        self.states.update(states)

    def add_tallies(self, deltas: dict[Key, int]) -> None:
        self.counts.update(deltas)

    def tallies(self, month: str) -> list[tuple[str, str, str, int]]:
        return [(kind, code, name, n) for (m, kind, code, name), n in self.counts.items() if m == month and n != 0]

    def forget(self) -> None:
        """Nothing is cached beyond the stored state."""
