"""What both case repositories (SQL and in memory) keep for the unit of work: the cases a transaction has
added or loaded, whose events it publishes at commit, and the events that belong to no loaded case."""

from __future__ import annotations

from xiuhua.cases.domain.case import Case
from xiuhua.kernel.events import Event


class SeenCases:
    def __init__(self) -> None:
        self.seen: dict[int, Case] = {}
        """The cases this transaction added or loaded (by object): the unit of work collects their events."""
        self.events: list[Event] = []
        """Events of this transaction that belong to no loaded case (the sweep's flags, an import)."""

    def record(self, *events: Event) -> None:
        """Record events that no loaded case carries; they are published with the case events at commit."""
        self.events.extend(events)

    def collect_events(self) -> list[Event]:
        """Take the events recorded so far: each seen case's, in the order the cases were seen, then the rest."""
        out: list[Event] = []
        for case in self.seen.values():
            out.extend(case.events)
            case.events = []
        out.extend(self.events)
        self.events = []
        return out

    def forget(self) -> None:
        """Drop what this transaction has seen (it was rolled back)."""
        self.seen, self.events = {}, []
