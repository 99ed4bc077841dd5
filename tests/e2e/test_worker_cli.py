"""`xiuhua worker`: each pass also prunes the outbox past its retention (XIUHUA_OUTBOX_RETENTION_DAYS)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiuhua.bootstrap import bootstrap
from xiuhua.cases.services.outbox import Event
from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_a_worker_pass_prunes_events_past_the_retention(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_OUTBOX_RETENTION_DAYS", "7")
    get_settings.cache_clear()
    rt = bootstrap(database)
    now = datetime.now(UTC)
    ages = {"old-1": 30, "old-2": 8, "recent": 6, "newest": 0}
    with rt.uow() as uow:
        uow.outbox.add([Event("case.transitioned", now - timedelta(days=d), n, None, None, None, None)
                        for n, d in ages.items()])  # fmt: skip
        uow.commit()
    result = CliRunner().invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert "清理事件 2" in result.stdout
    with rt.uow() as uow:
        assert [e.case_no for e in uow.outbox.after(0)] == ["recent", "newest"]
    rt.engine.dispose()


def test_a_retention_under_a_day_is_refused(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_OUTBOX_RETENTION_DAYS", "0")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="outbox_retention_days"):
        get_settings()
