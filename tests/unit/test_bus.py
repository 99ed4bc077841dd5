"""The message bus: one handler per command, in-transaction and after-commit handlers of events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from xiuhua.kernel.bus import MessageBus, NoHandlerError
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.events import Command, Event


@dataclass(frozen=True)
class Ping(Command):
    n: int


@dataclass(frozen=True)
class Pinged(Event):
    n: int


def test_a_command_goes_to_its_one_handler_and_returns_its_result() -> None:
    bus = MessageBus()
    bus.command(Ping, lambda cmd, clock=None: (cmd.n * 2, clock))
    assert bus.handle(Ping(21)) == (42, None)
    clock = FakeClock(datetime(2026, 3, 3, tzinfo=UTC))
    assert bus.handle(Ping(1), clock=clock) == (2, clock)  # the sender's clock, when it keeps its own time


def test_a_command_nobody_handles_is_a_wiring_error() -> None:
    with pytest.raises(NoHandlerError):
        MessageBus().handle(Ping(1))


def test_events_reach_every_handler_of_their_kind_in_order() -> None:
    seen: list[Any] = []
    bus = MessageBus()
    bus.on(Pinged, lambda e, uow: seen.append(("first", e.n, uow)))
    bus.on(Pinged, lambda e, uow: seen.append(("second", e.n, uow)))
    bus.after(Pinged, lambda e: seen.append(("after", e.n)))
    bus.publish([Pinged(1), Pinged(2)], "uow")
    assert seen == [("first", 1, "uow"), ("second", 1, "uow"), ("first", 2, "uow"), ("second", 2, "uow")]
    bus.published([Pinged(3)])
    assert seen[-1] == ("after", 3)


def test_an_in_transaction_handler_that_fails_raises_and_an_after_commit_one_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MessageBus()

    def boom(*_: Any) -> None:
        raise RuntimeError("boom")

    seen: list[int] = []
    bus.on(Pinged, boom)
    bus.after(Pinged, boom)
    bus.after(Pinged, lambda e: seen.append(e.n))
    with pytest.raises(RuntimeError):
        bus.publish([Pinged(1)], None)
    bus.published([Pinged(2)])  # logged; the next handler still runs
    assert seen == [2] and "after-commit handler" in caplog.text
