"""The bases of the messages subjects exchange: events (what happened, past tense) and commands (what to do)."""

from __future__ import annotations


class Event:
    """Something that happened, named in the past tense (``CaseDispatched``). Any number of handlers, or none."""

    __slots__ = ()


class Command:
    """A request to do something, named in the imperative (``ReportCase``). Exactly one handler; it returns
    the handler's result."""

    __slots__ = ()
