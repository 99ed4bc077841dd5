"""Outbox retention on SQLite and PostgreSQL: events older than the retention are pruned, oldest first; recent
ones stay, and so does the newest (SQLite would hand its id out again); readers carry on past the gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xiuhua.cases.services.outbox import GAP_WAIT, Event, OutboxReader, prune_outbox
from xiuhua.kernel.clock import FakeClock
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def event(at: datetime, case_no: str) -> Event:
    return Event("case.transitioned", at, case_no, "410202", "410202001", "410202001009", None, {"case_no": case_no})


def add(uow: SqlUnitOfWork, *events: Event) -> None:
    with uow:
        uow.outbox.add(list(events))
        uow.commit()


def kept(uow: SqlUnitOfWork) -> list[str | None]:
    with uow:
        return [e.case_no for e in uow.outbox.after(0, 1000)]


def test_events_past_the_retention_are_pruned_and_recent_ones_stay(uow: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    add(uow, event(T0 - timedelta(days=90), "old-1"), event(T0 - timedelta(days=31), "old-2"))
    add(uow, event(T0 - MONTH - timedelta(minutes=1), "old-3"), event(T0 - MONTH + timedelta(minutes=1), "recent-1"))
    add(uow, event(T0 - timedelta(hours=1), "recent-2"), event(T0, "recent-3"))
    assert prune_outbox(uow, clock, MONTH) == 3
    assert kept(uow) == ["recent-1", "recent-2", "recent-3"]
    assert prune_outbox(uow, clock, MONTH) == 0  # a second pass finds nothing more
    clock.advance(minutes=2)
    assert prune_outbox(uow, clock, MONTH) == 1 and kept(uow) == ["recent-2", "recent-3"]


def test_the_newest_event_stays_however_old_so_no_id_is_handed_out_twice(uow: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    add(uow, *(event(T0 - timedelta(days=60, minutes=-k), f"old-{k}") for k in range(3)))
    with uow:
        newest = uow.outbox.last_id()
    assert prune_outbox(uow, clock, MONTH) == 2
    assert kept(uow) == ["old-2"]  # not yet delivered to a reader that starts at the newest, nor replaced
    add(uow, event(T0, "new"))
    with uow:
        (old, new) = uow.outbox.after(0, 10)
    assert old.id == newest and new.id is not None and new.id > newest


def test_pruning_goes_a_batch_at_a_time_oldest_first(uow: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    add(uow, *(event(T0 - timedelta(days=40, minutes=-k), f"old-{k}") for k in range(5)), event(T0, "recent"))
    assert prune_outbox(uow, clock, MONTH, limit=2) == 2
    assert kept(uow) == ["old-2", "old-3", "old-4", "recent"]
    assert prune_outbox(uow, clock, MONTH, limit=2) == 2
    assert prune_outbox(uow, clock, MONTH, limit=2) == 1
    assert kept(uow) == ["recent"]


def test_a_reader_behind_the_pruned_events_carries_on_with_the_kept_ones(uow: SqlUnitOfWork) -> None:
    clock = FakeClock(T0)
    add(uow, event(T0 - timedelta(days=45), "old"), event(T0 - timedelta(days=1), "recent"))
    with uow:
        start = uow.outbox.after(0, 1)[0].id
    assert start is not None
    reader = OutboxReader(start - 1, clock.now)  # a client that last saw the event before "old"
    assert prune_outbox(uow, clock, MONTH) == 1
    assert reader.poll(uow) == []  # a gap: it waits for a transaction that may still commit into it
    clock.advance(seconds=GAP_WAIT.total_seconds() + 1)
    assert [e.case_no for e in reader.poll(uow)] == ["recent"]
