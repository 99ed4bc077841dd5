"""A private Mosquitto for a laptop demo where no broker is configured (loopback only, no persistence)."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from xiuhua.sensing.adapters.mqtt.client import BrokerUnavailableError, broker_reachable


def start_local_broker(port: int) -> subprocess.Popen[bytes]:
    """Start mosquitto on 127.0.0.1:``port``; raises BrokerUnavailableError when it is not installed."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        raise BrokerUnavailableError("no MQTT broker configured and mosquitto is not installed")
    folder = Path(tempfile.mkdtemp(prefix="xiuhua-mqtt-"))
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
        f"user {getpass.getuser()}\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        if broker_reachable("127.0.0.1", port, 0.2):
            return process
        time.sleep(0.05)
    process.terminate()
    raise BrokerUnavailableError(f"mosquitto did not start on 127.0.0.1:{port}")
