"""The live stream delivers only what the viewer may see; the outbox reader copes with ids committed
out of order."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.api.conftest import DISTRICT_DISPATCHER, HERE, PASSWORD, THERE, Api
from tests.api.helpers import HANDLER, OTHER_HANDLER, case_in
from xiuhua.cases.domain.commands import ReportCase
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.lifecycle import report_case
from xiuhua.cases.services.outbox import GAP_WAIT, Event, OutboxReader
from xiuhua.cases.services.policy import load_policy
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.unit_of_work import SqlUnitOfWork


def events_seen(api: Api, user: str, replay: int = 100, **params: str) -> list[dict[str, object]]:
    query = "&".join([f"replay={replay}", "max_seconds=0.3", *(f"{k}={v}" for k, v in params.items())])
    headers = {} if "access_token" in params else api.auth(user)
    seen = []
    with api.client.stream("GET", f"/api/v1/events/stream?{query}", headers=headers) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
    return seen


def test_stream_is_filtered_by_scope(api: Api) -> None:
    here = case_in(api, "dispatched")  # 龙亭区, disposed by the water company
    there = api.report("acceptor1", **THERE)
    there_no = there.json()["case_no"]
    city = events_seen(api, "dispatcher1")
    assert [(e["case_no"], e["type"]) for e in city] == [
        (here, "case.reported"), (here, "case.transitioned"), (here, "case.transitioned"),
        (here, "case.transitioned"), (there_no, "case.reported")]  # fmt: skip
    assert {e["case_no"] for e in events_seen(api, DISTRICT_DISPATCHER)} == {here}
    assert {e["case_no"] for e in events_seen(api, "dispatcher_410203")} == {there_no}
    handler = events_seen(api, HANDLER)
    assert [e["action"] for e in handler] == ["dispatch"]  # the department's cases from when they are its
    assert events_seen(api, OTHER_HANDLER) == []
    for event in city:
        assert "reporter" not in event and "reporter_phone" not in event


def test_stream_needs_a_staff_login_and_takes_a_query_token(api: Api) -> None:
    case_in(api, "reported")
    assert api.client.get("/api/v1/events/stream?max_seconds=0.1").status_code == 401
    citizen = api.client.get("/api/v1/events/stream?max_seconds=0.1", headers=api.auth("citizen_wang"))
    assert citizen.status_code == 403 and citizen.json()["code"] == "auth.staff_only"
    token = api.login("leader")["access_token"]
    assert len(events_seen(api, "leader", access_token=token)) == 1
    only_new = events_seen(api, "leader", replay=0)
    assert only_new == []


def test_citizens_accounts_stay_out_of_the_stream(api: Api) -> None:
    assert api.report("citizen_wang").status_code == 201
    (event,) = events_seen(api, "leader")
    assert event["actor"] == "" and "citizen_wang" not in json.dumps(event)


def test_machine_reports_raise_alarms(api: Api) -> None:
    uow = SqlUnitOfWork(api.engine)
    where = Location(HERE["lon"], HERE["lat"], HERE["address"], "410202", "410202001", HERE["community_code"])
    cmd = ReportCase(SYSTEM_ACTOR, Source.SENSOR, ClassKind.COMPONENT, "01001", where, "井盖位移告警")
    assert report_case(cmd, uow, api.clock, load_policy(uow, holidays.statutory_days)).created
    types = [e["type"] for e in events_seen(api, "leader")]
    assert types == ["case.reported", "alarm.raised"]


def _event(id_: int) -> Event:
    return Event("case.reported", datetime(2026, 3, 3, tzinfo=UTC), str(id_), "410202", None, None, None, {}, id_)


class _Outbox:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def after(self, last_id: int, limit: int = 200) -> list[Event]:
        return [e for e in self.events if e.id is not None and e.id > last_id][:limit]


class _Uow:
    """Only what OutboxReader touches: a context manager with an outbox."""

    def __init__(self, outbox: _Outbox) -> None:
        self.outbox = outbox

    def __enter__(self) -> _Uow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_reader_waits_at_a_fresh_gap_then_skips_it() -> None:
    clock = FakeClock(datetime(2026, 3, 3, tzinfo=UTC))
    outbox = _Outbox([_event(1), _event(3)])  # 2 is a transaction still running, or one rolled back
    reader = OutboxReader(0, clock.now)
    uow = _Uow(outbox)
    assert [e.id for e in reader.poll(uow)] == [1]  # type: ignore[arg-type]
    outbox.events.insert(1, _event(2))  # it commits
    assert [e.id for e in reader.poll(uow)] == [2, 3]  # type: ignore[arg-type]
    outbox.events.append(_event(5))
    assert reader.poll(uow) == []  # type: ignore[arg-type]
    clock.advance(seconds=GAP_WAIT.total_seconds() + 0.1)
    assert [e.id for e in reader.poll(uow)] == [5]  # type: ignore[arg-type]
    assert reader.last_id == 5 and timedelta(0) < GAP_WAIT


def test_outbox_rows_are_written_with_the_case(api: Api) -> None:
    failed = api.report(class_code="99999")
    assert failed.status_code == 422
    with SqlUnitOfWork(api.engine) as uow:
        assert uow.outbox.last_id() == 0  # a refused report leaves no event
    case_in(api, "accepted")
    with SqlUnitOfWork(api.engine) as uow:
        events = uow.outbox.after(0)
    assert [e.type for e in events] == ["case.reported", "case.transitioned"]
    assert events[1].payload["action"] == "accept" and events[1].district_code == "410202"


def _stream_while(api: Api, token: str, action: Callable[[], object], max_seconds: int = 20) -> float:
    """Open the stream, do ``action`` from another thread once it runs; seconds until the stream ended."""
    timer = threading.Timer(0.8, action)
    started = time.monotonic()
    timer.start()
    try:
        r = api.client.get(f"/api/v1/events/stream?replay=0&max_seconds={max_seconds}",
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    finally:
        timer.cancel()
    assert r.status_code == 200
    return time.monotonic() - started


def test_stream_ends_at_logout(api: Api) -> None:
    tokens = api.login("leader")
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    elapsed = _stream_while(api, tokens["access_token"], lambda: api.client.post("/api/v1/auth/logout", headers=header))
    assert elapsed < 6


def test_stream_ends_when_its_token_expires(api: Api) -> None:
    tokens = api.login("leader")
    elapsed = _stream_while(api, tokens["access_token"], lambda: api.clock.advance(minutes=16))
    assert elapsed < 6


def test_stream_on_a_real_server_ends_at_logout(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    shutil.copy(sqlite_template, path)
    port = _free_port()
    env = {**os.environ, "XIUHUA_DATABASE_URL": f"sqlite:///{path}", "XIUHUA_EVIDENCE_DIR": str(tmp_path / "ev")}
    server = subprocess.Popen([str(Path(sys.executable).with_name("xiuhua")), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = httpx.post(f"{base}/auth/token", data={"username": "leader", "password": PASSWORD}, timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        header = {"Authorization": f"Bearer {login.json()['access_token']}"}
        lines = []
        with httpx.stream("GET", f"{base}/events/stream?replay=0", headers=header, timeout=12) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                lines.append(line)
                if line.startswith("retry:"):
                    assert httpx.post(f"{base}/auth/logout", headers=header, timeout=5).status_code == 204
                    logged_out = time.monotonic()
            ended = time.monotonic() - logged_out  # a stream left open would end in a read timeout instead
        assert ended < 6 and any("登录已结束" in line for line in lines)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
