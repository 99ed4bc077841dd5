"""The commands end to end against a private Mosquitto: import devices, `xiuhua ingest` in its own process,
`xiuhua simulate-sensors` publishing, cases in the database; and the demo's start_sensing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.mqtt.conftest import OwnBroker, free_port, mqtt_unavailable
from xiuhua.bootstrap import Runtime
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.cli.sensing import start_sensing
from xiuhua.platform.db import tables as t
from xiuhua.platform.db.engine import make_engine, upgrade
from xiuhua.platform.tabular import read_table
from xiuhua.sensing.adapters.mqtt.client import broker_reachable
from xiuhua.sensing.services import ingest as sensing

XIUHUA = str(Path(sys.executable).with_name("xiuhua"))
DEVICES = """code,kind,name,lon,lat,district_code,street_code,community_code,department_code
MH-1,manhole,龙亭路井盖,114.35,34.80,410202,410202001,410202001009,124102020A2R931M93
BIN-1,bin,垃圾箱 1,114.35,34.80,410202,410202001,410202001009,1241020210Q85UHF2K
"""


def test_ingest_and_simulator_commands_turn_an_alarm_into_a_case(own_broker: OwnBroker, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    rt = Runtime(engine)
    build_demo(demo_sources(geometry=False), rt.uow(), rt.calendar())
    env = {**os.environ, "XIUHUA_DATABASE_URL": url, "XIUHUA_MQTT_PORT": str(own_broker.port)}
    (tmp_path / "devices.csv").write_text(DEVICES, encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([XIUHUA, *args], env=env, capture_output=True, text=True, timeout=120)

    imported = run("device", "import", str(tmp_path / "devices.csv"))
    assert imported.returncode == 0 and "已导入设备 2 条" in imported.stdout
    ingest = subprocess.Popen([XIUHUA, "ingest", "--seconds", "9", "--client-id", "cli-test"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert ingest.stdout is not None
    assert "正在接收" in ingest.stdout.readline()  # subscribed: the session exists from here on
    simulated = run("simulate-sensors", "--ticks", "3", "--interval", "0.5")
    assert simulated.returncode == 0 and "已发布" in simulated.stdout
    stdout, stderr = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, stderr
    assert "← MH-1（manhole-alarm）" in stdout
    with engine.connect() as conn:
        cases = conn.scalar(select(func.count()).select_from(t.cases).where(t.cases.c.source == "sensor"))
        readings = conn.scalar(select(func.count()).select_from(t.sensing_readings))
    assert cases == 1 and readings == 6
    shown = run("device", "show", "MH-1")
    assert shown.returncode == 0 and "告警中" in shown.stdout
    missing = run("device", "show", "NOPE")
    assert missing.returncode == 1 and "sensing.unknown_device" in missing.stderr
    bad_rule = run("rule", "set", "manhole-alarm", "--threshold", "3")
    assert bad_rule.returncode == 2 and "sensing.bad_rule" in bad_rule.stderr
    engine.dispose()


def test_start_sensing_runs_a_private_broker_ingest_and_simulator_until_stopped(tmp_path: Path) -> None:
    if not Path("/usr/sbin/mosquitto").exists():
        mqtt_unavailable("the mosquitto binary is not installed")
    engine = make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    upgrade(engine)
    rt = Runtime(engine)
    build_demo(demo_sources(geometry=False), rt.uow(), rt.calendar())
    (tmp_path / "devices.csv").write_text(DEVICES, encoding="utf-8")
    sensing.import_devices(read_table(tmp_path / "devices.csv"), rt.uow(), rt.clock)
    port, stop = free_port(), threading.Event()
    threads = start_sensing(rt, stop, port=port)
    try:
        assert broker_reachable("127.0.0.1", port)

        def sensor_cases() -> int:
            with engine.connect() as conn:
                query = select(func.count()).select_from(t.cases).where(t.cases.c.source == "sensor")
                return int(conn.scalar(query) or 0)

        deadline = time.monotonic() + 20
        while sensor_cases() == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sensor_cases() == 1  # the simulator's first cover alarm
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    assert not broker_reachable("127.0.0.1", port)
    engine.dispose()
