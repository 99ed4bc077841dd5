"""Benchmark: sustained sensor messages per second through MQTT → validation → storage → rules, against the
broker's own loopback throughput measured in the same run, and alarm-to-case latency.

A private Mosquitto is started on a free port (no persistence, unlimited queues). The floor is a bare QoS 1
subscriber that stores nothing, fed by the same publisher process with the same messages. The pipeline is
`xiuhua ingest`'s loop (QoS 1, persistent session, acknowledgement after each committed batch) into SQLite
(a file) and, when XIUHUA_TEST_PG_URL points at a server, PostgreSQL. Messages are normal readings from
600 devices with 1 % malformed. Latency: alarms published one at a time (each from a different manhole
cover, each opening a case) while ingest runs, from publish to the committed case.
Goals: pipeline ≥ 25 % of the floor's throughput; p99 alarm-to-case < 1 s. Run with `python bench/sensing.py`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy.engine import make_url

from xiuhua.bootstrap import Runtime, messagebus
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.platform import packagedata
from xiuhua.platform.db.engine import make_engine, recreate_database, upgrade
from xiuhua.platform.tabular import Row
from xiuhua.sensing.adapters.mqtt.client import BrokerSettings, Delivery, Publisher, Subscriber, broker_reachable
from xiuhua.sensing.services import ingest as sensing
from xiuhua.sensing.services.ingest import Message

PLACE = {"district_code": "410202", "street_code": "410202001", "community_code": "410202001009"}
SANITATION = "1241020210Q85UHF2K"
KINDS = (("dust", "DUST", 300), ("bin", "BIN", 200), ("manhole", "MH", 100))
FIELD = {"dust": "pm10", "bin": "fill_pct", "manhole": "tilt_deg"}


def start_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
        f"max_inflight_messages 0\nuser {getpass.getuser()}\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        if broker_reachable("127.0.0.1", port, 0.2):
            return process, port
        time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def messages(n: int, start: datetime) -> list[tuple[str, bytes]]:
    """n normal readings spread over the devices (each device's readings a second apart), 1 % malformed."""
    devices = [(kind, f"{prefix}-{k:04d}") for kind, prefix, count in KINDS for k in range(count)]
    out: list[tuple[str, bytes]] = []
    for i in range(n):
        kind, code = devices[i % len(devices)]
        topic = f"bench/{kind}/{code}"
        if i % 100 == 99:
            out.append((topic, b'{"device": "' + code.encode() + b'", "ts": '))
            continue
        at = start + timedelta(seconds=i // len(devices))
        value = {"dust": 60.0 + i % 40, "bin": 30.0 + i % 30, "manhole": 1.0 + (i % 5) / 10}[kind]
        payload = {"device": code, "ts": at.isoformat(), "values": {FIELD[kind]: value}}
        out.append((topic, json.dumps(payload, separators=(",", ":")).encode()))
    return out


def publish_process(port: int, n: int, start_iso: str) -> None:
    """Runs in its own process so that publishing does not share the subscriber's interpreter."""
    publisher = Publisher(BrokerSettings("127.0.0.1", port), client_id="", max_inflight=1000)
    publisher.start()
    publisher.publish_all(messages(n, datetime.fromisoformat(start_iso)), timeout_s=600)
    publisher.stop()


def run_publisher(port: int, n: int, start: datetime) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=publish_process, args=(port, n, start.isoformat()))
    process.start()
    return process


def floor(port: int, n: int, start: datetime) -> float:
    """Messages per second a bare QoS 1 subscriber receives (acknowledging each, storing nothing)."""
    received = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        nonlocal received, first, last
        received += 1
        last = time.perf_counter()
        if received == 1:
            first = last
        if received == n:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-floor", protocol=MQTTProtocolVersion.MQTTv5)
    client.on_message = on_message
    connected = threading.Event()
    client.on_connect = lambda c, *_a: (c.subscribe("bench/#", qos=1), connected.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    connected.wait(10)
    time.sleep(0.3)
    publisher = run_publisher(port, n, start)
    done.wait(600)
    publisher.join(60)
    client.disconnect()
    client.loop_stop()
    return received / (last - first) if last > first else 0.0


def city(url: str) -> Runtime:
    engine = make_engine(url)
    upgrade(engine)
    rt = Runtime(engine)
    build_demo(demo_sources(geometry=False), rt.uow(), rt.calendar())
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"), packagedata.read("sensing/feed_mappings_default.csv"),
        rt.uow(), rt.clock,
    )  # fmt: skip
    rows = [
        Row(k + 2, {**PLACE, "code": f"{prefix}-{k:04d}", "kind": kind, "name": f"{kind} {k}", "lon": "114.35",
                    "lat": "34.80", "department_code": SANITATION})
        for kind, prefix, count in KINDS
        for k in range(count)
    ]  # fmt: skip
    sensing.import_devices(rows, rt.uow(), rt.clock)
    return rt


class Pipeline:
    """The ingest loop with timing: first delivery seen, last commit, and when each case was committed."""

    def __init__(self, rt: Runtime) -> None:
        self.rt, self.policy = rt, rt.policy()
        self.stored = self.received = 0
        self.first = self.last = 0.0
        self.case_at: dict[str, float] = {}

    def __call__(self, batch: Sequence[Delivery]) -> None:
        if not self.first:
            self.first = time.perf_counter()
        uow = self.rt.uow()
        handle = messagebus(uow, self.rt.clock, self.policy).handle
        report = sensing.ingest_messages([Message(d.topic, d.payload) for d in batch], uow, self.rt.clock, handle)
        self.last = time.perf_counter()
        self.received += report.received
        self.stored += report.stored
        for c in report.cases:
            self.case_at[c.device_code] = self.last


def pipeline(label: str, url: str, port: int, n: int, alarms: int) -> tuple[float, list[float]]:
    rt = city(url)
    handler = Pipeline(rt)
    settings = BrokerSettings("127.0.0.1", port, client_id=f"bench-ingest-{label}", topic="bench/#")
    subscriber = Subscriber(settings, handler, batch_size=1000, batch_wait_s=0.01)
    subscriber.start()
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    publisher = run_publisher(port, n, datetime.now(UTC) - timedelta(hours=2))
    deadline = time.monotonic() + 900
    while handler.received < n and time.monotonic() < deadline:
        time.sleep(0.05)
    publisher.join(60)
    rate = handler.received / (handler.last - handler.first) if handler.last > handler.first else 0.0
    # latency: one alarm at a time, each from a different cover
    sent: dict[str, float] = {}
    alarm_pub = Publisher(BrokerSettings("127.0.0.1", port), client_id="")
    alarm_pub.start()
    for k in range(alarms):
        code = f"MH-{k % 100:04d}"
        payload = {"device": code, "ts": datetime.now(UTC).isoformat(), "values": {"tilt_deg": 40.0}, "alarm": True}
        sent[code] = time.perf_counter()
        alarm_pub.publish(f"bench/manhole/{code}", json.dumps(payload).encode()).wait_for_publish(5)
        wait_until = time.monotonic() + 5
        while code not in handler.case_at and time.monotonic() < wait_until:
            time.sleep(0.001)
        time.sleep(0.05)
    alarm_pub.stop()
    stop.set()
    thread.join(10)
    subscriber.stop()
    rt.engine.dispose()
    latencies = sorted(handler.case_at[c] - sent[c] for c in sent if c in handler.case_at)
    missing = len(sent) - len(latencies)
    if missing:
        print(f"{label}: {missing} alarms did not become cases within 5 s")
        latencies += [float("inf")] * missing
    return rate, latencies


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def fresh_pg(url: str) -> str | None:
    try:
        return recreate_database(
            make_url(url).set(database="xiuhua_bench_sensing").render_as_string(hide_password=False)
        )
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--alarms", type=int, default=100)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o777)
        broker, port = start_broker(Path(folder))
        try:
            floor_rate = floor(port, args.messages, datetime.now(UTC) - timedelta(hours=2))
            print(f"floor      bare QoS 1 subscriber   {floor_rate:9.0f} msg/s  ({args.messages} messages, loopback)")
            targets = [("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")]
            pg = os.environ.get("XIUHUA_TEST_PG_URL")
            if pg and (url := fresh_pg(pg)):
                targets.append(("PostgreSQL", url))
            for label, url in targets:
                rate, latencies = pipeline(label, url, port, args.messages, args.alarms)
                ratio = rate / floor_rate if floor_rate else 0.0
                p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
                print(
                    f"{label:10s} ingest → rules       {rate:9.0f} msg/s  ratio {ratio:.2f} of floor (goal ≥ 0.25)   "
                    f"alarm→case p50 {p50 * 1000:.0f} ms  p99 {p99 * 1000:.0f} ms (goal < 1000 ms)"
                )
                ok = ok and ratio >= 0.25 and p99 < 1.0
        finally:
            broker.send_signal(signal.SIGTERM)
            broker.wait(10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
