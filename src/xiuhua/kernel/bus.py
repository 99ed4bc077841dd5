"""A small message bus: commands to their one handler, events to any number of handlers, of two kinds.

- In-transaction handlers run inside the unit of work's transaction, before the database commit, with that
  unit of work (``handler(event, uow)``): what must be exact with the change that caused the event (the
  evaluation tallies, the outbox rows). One that raises undoes the whole transaction.
- After-commit handlers run once the transaction is committed (``handler(event)``): what may fail without
  undoing anything (notifications). A failure is logged and the others still run.

The composition root (``bootstrap.messagebus``) registers the handlers; the unit of work collects the events
of the aggregates it has seen and hands them to ``publish`` and then ``published`` when it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from xiuhua.kernel.events import Command, Event
from xiuhua.kernel.ports import Clock

log = logging.getLogger(__name__)

InTransaction = Callable[[Any, Any], None]
"""(event, unit of work) -> None."""
AfterCommit = Callable[[Any], None]
"""(event) -> None."""
CommandHandler = Callable[..., Any]
"""(command, clock=...) -> result, its other collaborators bound by the composition root."""


class Handle(Protocol):
    """What a service that sends commands is given (``MessageBus.handle``). A service that keeps its own time
    (a replay, a simulation) passes its clock, so that the command happens at that time."""

    def __call__(self, command: Command, /, *, clock: Clock | None = None) -> Any: ...


class NoHandlerError(LookupError):
    """A command was sent that nobody handles (a wiring mistake, never a user's)."""


class MessageBus:
    def __init__(self) -> None:
        self.in_transaction: dict[type[Event], list[InTransaction]] = {}
        self.after_commit: dict[type[Event], list[AfterCommit]] = {}
        self.commands: dict[type[Command], CommandHandler] = {}

    # ----- registration (the composition root) ---------------------------------------------------
    def on(self, event: type[Event], handler: InTransaction) -> None:
        """Run ``handler(event, uow)`` in the transaction that recorded the event, before it commits."""
        self.in_transaction.setdefault(event, []).append(handler)

    def after(self, event: type[Event], handler: AfterCommit) -> None:
        """Run ``handler(event)`` after the transaction that recorded the event has committed."""
        self.after_commit.setdefault(event, []).append(handler)

    def command(self, command: type[Command], handler: CommandHandler) -> None:
        """Make ``handler`` the one handler of a command type (registering a second replaces the first)."""
        self.commands[command] = handler

    # ----- use ---------------------------------------------------------------------------------------
    def handle(self, command: Command, /, *, clock: Clock | None = None) -> Any:
        """Run the command's handler (on ``clock`` when given, else the bus's) and return its result; raises
        NoHandlerError when none is registered."""
        handler = self.commands.get(type(command))
        if handler is None:
            raise NoHandlerError(f"no handler for {type(command).__name__}")
        return handler(command) if clock is None else handler(command, clock=clock)

    def publish(self, events: Iterable[Event], uow: Any) -> None:
        """Run the in-transaction handlers of each event, in order; an error propagates (nothing commits)."""
        for event in events:
            for handler in self.in_transaction.get(type(event), ()):
                handler(event, uow)

    def published(self, events: Iterable[Event]) -> None:
        """Run the after-commit handlers of each event; a failure is logged and never undoes the change."""
        for event in events:
            for handler in self.after_commit.get(type(event), ()):
                try:
                    handler(event)
                except Exception:
                    log.exception("after-commit handler %s failed on %s", getattr(handler, "__name__", handler), event)
