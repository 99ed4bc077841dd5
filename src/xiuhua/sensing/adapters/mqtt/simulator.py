"""Realistic sensor traffic for the demo city and the benchmark: normal readings, alarm episodes, device
faults (values outside the range), malformed messages, messages from unregistered devices, and bursts."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from xiuhua.sensing.adapters.mqtt.client import TOPIC
from xiuhua.sensing.domain.model import CHINA, Device

# (normal mean, spread, alarming value) of each kind's first field
_NORMAL: dict[str, tuple[float, float, float]] = {
    "manhole": (1.0, 0.5, 35.0),
    "dust": (70.0, 20.0, 260.0),
    "fume": (0.8, 0.3, 4.5),
    "water_pressure": (0.32, 0.03, 0.08),
    "gas_pressure": (200.0, 10.0, 460.0),
    "drainage": (0.4, 0.1, 1.9),
    "bin": (40.0, 15.0, 97.0),
    "lamp": (150.0, 5.0, 0.0),
}


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of each tick's messages (per device and tick)."""

    alarm_start: float = 0.002
    """Chance that a device starts an alarm episode."""
    alarm_ticks: int = 40
    fault: float = 0.002
    malformed: float = 0.001
    unknown: float = 0.001


@dataclass
class SensorSimulator:
    devices: Sequence[Device]
    rng: random.Random = field(default_factory=lambda: random.Random(410200))
    mix: Mix = Mix()
    alarming: dict[str, int] = field(default_factory=dict)
    """Device code → ticks of alarm left."""
    position: dict[str, float] = field(default_factory=dict)
    """Truck code → how far along its route (0..1)."""

    def start_alarm(self, code: str, ticks: int | None = None) -> None:
        self.alarming[code] = ticks or self.mix.alarm_ticks

    def tick(self, now: datetime) -> list[tuple[str, bytes]]:
        """One message per device at ``now``, with the mix's alarms, faults and bad messages."""
        out: list[tuple[str, bytes]] = []
        for device in self.devices:
            roll = self.rng.random()
            if device.code not in self.alarming and roll < self.mix.alarm_start:
                self.start_alarm(device.code)
            if self.rng.random() < self.mix.malformed:
                out.append((self.topic(device), b'{"device": "' + device.code.encode() + b'", "ts": '))
                continue
            out.append((self.topic(device), self.payload(device, now, fault=self.rng.random() < self.mix.fault)))
            if self.rng.random() < self.mix.unknown:
                ghost = {"device": f"GHOST-{self.rng.randrange(1000)}", "ts": now.isoformat(), "values": {}}
                out.append((f"{TOPIC}/unknown/ghost", json.dumps(ghost).encode()))
        for code in list(self.alarming):
            self.alarming[code] -= 1
            if self.alarming[code] <= 0:
                del self.alarming[code]
        return out

    def burst(self, now: datetime, per_device: int, step: timedelta = timedelta(seconds=1)) -> list[tuple[str, bytes]]:
        """Many readings per device at once (a gateway flushing its buffer): ``per_device`` each, ``step`` apart."""
        return [
            (self.topic(d), self.payload(d, now - step * (per_device - 1 - k)))
            for k in range(per_device)
            for d in self.devices
        ]

    @staticmethod
    def topic(device: Device) -> str:
        return f"{TOPIC}/{device.kind}/{device.code}"

    def payload(self, device: Device, now: datetime, *, fault: bool = False) -> bytes:
        alarm = device.code in self.alarming
        values = self.values(device, now, alarm)
        if fault:
            first = device.device_kind.fields[0]
            values[first.name] = first.high * 10 + 1  # a broken probe reports nonsense
        message: dict[str, object] = {"device": device.code, "ts": now.isoformat(), "values": values}
        if device.kind in ("manhole", "lamp"):
            message["alarm"] = alarm
        return json.dumps(message, separators=(",", ":")).encode()

    def values(self, device: Device, now: datetime, alarm: bool) -> dict[str, float]:
        kind = device.device_kind
        if kind.mobile:
            return self._truck(device, now, alarm)
        mean, spread, alarming = _NORMAL[device.kind]
        if device.kind == "lamp":
            night = not 6 <= (now + CHINA).hour < 18
            mean = mean if night else 0.0
        value = alarming + self.rng.uniform(-0.02, 0.02) * alarming if alarm else self.rng.gauss(mean, spread)
        first = kind.fields[0]
        values = {first.name: round(min(first.high, max(first.low, value)), 3)}
        for extra in kind.fields[1:]:
            values[extra.name] = round(
                min(extra.high, max(extra.low, abs(self.rng.gauss(values[first.name] / 2, 1)))), 3
            )
        return values

    def _truck(self, device: Device, now: datetime, off_route: bool) -> dict[str, float]:
        route = device.permit.route if device.permit and device.permit.route else ((device.lon, device.lat),) * 2
        at = (self.position.get(device.code, self.rng.random()) + 0.01) % 1.0
        self.position[device.code] = at
        (x1, y1), (x2, y2) = route[0], route[-1]
        lon, lat = x1 + (x2 - x1) * at, y1 + (y2 - y1) * at
        if off_route:
            lat += 0.01  # about a kilometre off the permitted corridor
        speed = 30 + 10 * math.sin(at * 6.28)
        return {"lon": round(lon, 6), "lat": round(lat, 6), "speed_kmh": round(speed, 1)}
