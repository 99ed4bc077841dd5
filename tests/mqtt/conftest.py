"""Fixtures for tests against a real MQTT broker: the machine's Mosquitto on 127.0.0.1:1883, or a private
Mosquitto started on a free port (for tests that stop and restart it). Without a broker these tests are
skipped, unless XIUHUA_REQUIRE_MQTT=1 (CI), which turns the skip into a failure."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xiuhua.sensing.adapters.mqtt.client import BrokerSettings, broker_reachable

REQUIRE_MQTT = os.environ.get("XIUHUA_REQUIRE_MQTT") == "1"
HOST, PORT = os.environ.get("XIUHUA_TEST_MQTT_HOST", "127.0.0.1"), int(os.environ.get("XIUHUA_TEST_MQTT_PORT", "1883"))


def mqtt_unavailable(reason: str) -> None:
    if REQUIRE_MQTT:
        pytest.fail(f"MQTT tests are required but cannot run: {reason}", pytrace=False)
    pytest.skip(f"MQTT broker not available: {reason}")


@pytest.fixture
def broker() -> BrokerSettings:
    """The machine's broker."""
    if not broker_reachable(HOST, PORT):
        mqtt_unavailable(f"nothing listens on {HOST}:{PORT}")
    return BrokerSettings(HOST, PORT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnBroker:
    """A private Mosquitto with persistence in a temporary folder, stopped and started by the test."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\nautosave_interval 1\n"
            f"log_dest file {folder}/mosquitto.log\n"
            f"user {getpass.getuser()}\n"  # started as root, mosquitto would drop to a user that cannot write here
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> BrokerSettings:
        return BrokerSettings("127.0.0.1", self.port)

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen([binary, "-c", str(self.config)], stderr=subprocess.DEVNULL)
        for _ in range(100):
            if broker_reachable("127.0.0.1", self.port, 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        """A clean shutdown: the broker writes its sessions and queued messages to its persistence file."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        mqtt_unavailable("the mosquitto binary is not installed")
    broker = OwnBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()
