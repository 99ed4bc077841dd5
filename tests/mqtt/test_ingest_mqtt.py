"""Ingestion through a real Mosquitto: publish → case, de-duplication, dead letters, acknowledgement only
after commit, a broker restart in the middle of a burst, and a rule edit picked up without a restart."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import MQTT_ERR_NO_CONN
from sqlalchemy import func, select

from tests.mqtt.conftest import OwnBroker
from xiuhua.bootstrap import Runtime
from xiuhua.cases.domain.workflow import Source
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.cli.sensing import IngestLoop
from xiuhua.platform import packagedata
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.engine import make_engine, upgrade
from xiuhua.platform.tabular import Row
from xiuhua.sensing.adapters.mqtt.client import BrokerSettings, Delivery, Publisher, Subscriber
from xiuhua.sensing.services import ingest as sensing

PLACE = {"district_code": "410202", "street_code": "410202001", "community_code": "410202001009"}
SANITATION = "1241020210Q85UHF2K"


def wait_for(predicate: Callable[[], bool], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@dataclass
class Pipeline:
    rt: Runtime
    root: str

    def topic(self, kind: str, code: str) -> str:
        return f"{self.root}/{kind}/{code}"

    def count(self, table: Any) -> int:
        with self.rt.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)

    def sensor_cases(self) -> list[Any]:
        with self.rt.engine.connect() as conn:
            return list(conn.execute(select(t.cases).where(t.cases.c.source == Source.SENSOR.value)))

    def run(self, settings: BrokerSettings, handle: Callable[[Sequence[Delivery]], None] | None = None) -> Running:
        settings = replace(settings, client_id=f"ingest-{self.root.rsplit('/', 1)[-1]}", topic=f"{self.root}/#")
        subscriber = Subscriber(settings, handle or IngestLoop(self.rt, None), batch_size=200)
        subscriber.start()
        stop = threading.Event()
        thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
        thread.start()
        return Running(subscriber, stop, thread)


@dataclass
class Running:
    subscriber: Subscriber
    stop_event: threading.Event
    thread: threading.Thread

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)
        self.subscriber.stop()


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """A demo city in an SQLite file (the subscriber's thread and the test share it), with three devices."""
    engine = make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    upgrade(engine)
    rt = Runtime(engine)
    build_demo(demo_sources(geometry=False), rt.uow(), rt.calendar())
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"), packagedata.read("sensing/feed_mappings_default.csv"),
        rt.uow(), rt.clock,
    )  # fmt: skip
    rows = [
        Row(2, {**PLACE, "code": "MH-1", "kind": "manhole", "name": "井盖 1", "lon": "114.35", "lat": "34.80"}),
        Row(3, {**PLACE, "code": "BIN-1", "kind": "bin", "name": "垃圾箱 1", "lon": "114.35", "lat": "34.80"}),
        Row(4, {**PLACE, "code": "DUST-1", "kind": "dust", "name": "工地 1", "lon": "114.35", "lat": "34.80"}),
    ]
    sensing.import_devices(
        [replace(r, values={**r.values, "department_code": SANITATION}) for r in rows], rt.uow(), rt.clock
    )
    yield Pipeline(rt, f"test/{uuid.uuid4().hex[:12]}")
    engine.dispose()


def message(code: str, at: datetime, alarm: bool = False, **values: float) -> bytes:
    return json.dumps({"device": code, "ts": at.isoformat(), "values": values, "alarm": alarm}).encode()


def publish(settings: BrokerSettings, messages: list[tuple[str, bytes]]) -> None:
    publisher = Publisher(settings)
    publisher.start()
    try:
        publisher.publish_all(messages)
    finally:
        publisher.stop()


def test_published_alarm_becomes_one_case_and_bad_messages_are_dead_lettered(
    broker: BrokerSettings, pipeline: Pipeline
) -> None:
    running = pipeline.run(broker)
    try:
        now = datetime.now(UTC)
        publish(broker, [
            (pipeline.topic("manhole", "MH-1"), message("MH-1", now - timedelta(seconds=3), tilt_deg=1.0)),
            (pipeline.topic("manhole", "MH-1"), message("MH-1", now - timedelta(seconds=2), alarm=True, tilt_deg=40)),
            (pipeline.topic("manhole", "MH-1"), b"{broken"),
            (pipeline.topic("manhole", "GHOST"), message("GHOST", now, tilt_deg=1.0)),
            (pipeline.topic("manhole", "MH-1"), message("MH-1", now, tilt_deg=400.0)),
        ])  # fmt: skip
        assert wait_for(lambda: len(pipeline.sensor_cases()) == 1 and pipeline.count(t.sensing_dead_letters) == 3)
        # the cover keeps alarming: the open case is updated, not duplicated
        later = [
            (
                pipeline.topic("manhole", "MH-1"),
                message("MH-1", now + timedelta(milliseconds=k), alarm=True, tilt_deg=41),
            )
            for k in range(1, 6)
        ]
        publish(broker, later)
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == 7)
    finally:
        running.stop()
    (case,) = pipeline.sensor_cases()
    assert case.class_code == "01023" and case.kind == "component" and case.reporter == "物联感知 MH-1"
    (episode,) = sensing.show_device(pipeline.rt.uow(), "MH-1").episodes
    assert episode.case_no == case.case_no and episode.breaches == 6
    _letters, counts = sensing.list_dead_letters(pipeline.rt.uow())
    assert counts == {"malformed": 1, "unknown_device": 1, "out_of_range": 1}
    assert running.subscriber.acked == 10


def test_a_rule_edit_applies_without_restarting_ingest(broker: BrokerSettings, pipeline: Pipeline) -> None:
    running = pipeline.run(broker)
    try:
        now = datetime.now(UTC)
        publish(broker, [(pipeline.topic("bin", "BIN-1"), message("BIN-1", now - timedelta(seconds=5), fill_pct=85))])
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == 1)
        assert pipeline.sensor_cases() == []
        sensing.change_rule(
            sensing.ChangeRule("bin-full", threshold=80, duration_minutes=0), pipeline.rt.uow(), pipeline.rt.clock
        )
        publish(broker, [(pipeline.topic("bin", "BIN-1"), message("BIN-1", now, fill_pct=86))])
        assert wait_for(lambda: len(pipeline.sensor_cases()) == 1)
    finally:
        running.stop()
    assert pipeline.sensor_cases()[0].class_code == "06042"


def test_a_batch_that_fails_is_not_acknowledged_and_comes_back(own_broker: OwnBroker, pipeline: Pipeline) -> None:
    seen: list[int] = []

    def crash(batch: Sequence[Delivery]) -> None:  # dies before its commit, every time
        seen.extend(d.mid for d in batch)
        raise RuntimeError("database unavailable")

    first = pipeline.run(own_broker.settings, crash)
    first.subscriber.on_error = lambda exc: None
    now = datetime.now(UTC)
    publish(own_broker.settings, [(pipeline.topic("dust", "DUST-1"), message("DUST-1", now, pm10=80.0))])
    assert wait_for(lambda: len(seen) >= 1)
    first.stop()
    assert first.subscriber.acked == 0 and pipeline.count(t.sensing_readings) == 0
    second = pipeline.run(own_broker.settings)  # the same client id: the broker resends what was not acknowledged
    try:
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == 1)
    finally:
        second.stop()
    assert second.subscriber.acked == 1


def test_a_broker_restart_in_the_middle_of_a_burst_loses_nothing_acknowledged(
    own_broker: OwnBroker, pipeline: Pipeline
) -> None:
    running = pipeline.run(own_broker.settings)
    publisher = Publisher(own_broker.settings, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    publisher.start()
    start = datetime.now(UTC) - timedelta(hours=1)
    total = 3000
    infos = []
    try:
        for k in range(total):
            at = start + timedelta(seconds=k)
            infos.append(publisher.publish(pipeline.topic("dust", "DUST-1"), message("DUST-1", at, pm10=60.0 + k % 50)))
            if k == total // 2:
                own_broker.stop()
                own_broker.start()
        # A message published while the client had not yet reconnected is queued by the client and sent on
        # reconnection, but its handle keeps the "not connected" code: the count of stored readings decides.
        assert wait_for(lambda: all(i.rc == MQTT_ERR_NO_CONN or i.is_published() for i in infos), 60)
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == total, 60), pipeline.count(t.sensing_readings)
    finally:
        publisher.stop()
        running.stop()
    assert pipeline.count(t.sensing_dead_letters) == 0
    assert running.subscriber.acked >= total - 1000  # some deliveries were acknowledged on the first connection


def test_a_poison_message_is_dead_lettered_and_intake_goes_on_across_a_restart(
    broker: BrokerSettings, pipeline: Pipeline
) -> None:
    """Deeply nested payloads between good messages of three devices: the good ones are stored, the poison
    ones dead-lettered with their reason and acknowledged, so a restarted ingest does not get them again."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    devices = (("manhole", "MH-1", {"tilt_deg": 1.0}), ("bin", "BIN-1", {"fill_pct": 20.0}),
               ("dust", "DUST-1", {"pm10": 60.0}))  # fmt: skip
    arrays = b"[" * 20_000 + b"]" * 20_000
    objects = b'{"a":' * 6_700 + b"1" + b"}" * 6_700
    messages: list[tuple[str, bytes]] = []
    for k in range(30):
        kind, code, values = devices[k % 3]
        messages.append((pipeline.topic(kind, code), message(code, now + timedelta(seconds=k), **values)))
        if k == 10:
            messages.append((pipeline.topic("dust", "DUST-1"), arrays))
        if k == 20:
            messages.append((pipeline.topic("bin", "BIN-1"), objects))
    first = pipeline.run(broker)
    errors: list[Exception] = []
    first.subscriber.on_error = errors.append
    try:
        publish(broker, messages)
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == 30 and first.subscriber.acked == 32), (
            pipeline.count(t.sensing_readings), first.subscriber.acked, errors[:1],
        )  # fmt: skip
    finally:
        first.stop()
    assert errors == []
    letters, counts = sensing.list_dead_letters(pipeline.rt.uow())
    assert counts == {"too_deep": 2}
    assert {(x.topic, x.device_code) for x in letters} == {
        (pipeline.topic("dust", "DUST-1"), None), (pipeline.topic("bin", "BIN-1"), None),
    }  # fmt: skip
    assert all(x.message and x.payload[:1] in "[{" for x in letters)
    # a restart resumes the same session: nothing comes back, and what is sent next is stored
    second = pipeline.run(broker)
    try:
        later = now + timedelta(minutes=1)
        publish(broker, [(pipeline.topic("dust", "DUST-1"), message("DUST-1", later, pm10=61.0))])
        assert wait_for(lambda: pipeline.count(t.sensing_readings) == 31)
        time.sleep(0.5)
    finally:
        second.stop()
    assert second.subscriber.acked == 1 and pipeline.count(t.sensing_dead_letters) == 2
