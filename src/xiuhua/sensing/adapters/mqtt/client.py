"""paho-mqtt 2.x over MQTT 5: a persistent session (clean start off, session expiry), QoS 1, and manual
acknowledgements sent only after the handler has committed a batch. A message delivered but not
acknowledged when the connection drops is sent again by the broker after reconnecting; ingest is
idempotent (a reading is keyed by device and time), so a second delivery changes nothing."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

TOPIC = "xiuhua/sensors"
"""Devices publish to ``xiuhua/sensors/{kind}/{device code}``."""


class BrokerUnavailableError(ConnectionError):
    """The broker could not be reached."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "xiuhua-ingest"
    topic: str = f"{TOPIC}/#"
    session_expiry_s: int = 7 * 24 * 3600
    receive_maximum: int = 1000
    """How many unacknowledged messages the broker may have in flight to us (MQTT 5 Receive Maximum)."""
    keepalive_s: int = 30


@dataclass(frozen=True, slots=True)
class Delivery:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    """Which connection delivered it: an ack is only valid on that connection."""


Handler = Callable[[Sequence[Delivery]], None]
"""Processes and commits a batch; raising leaves the batch unacknowledged, to be retried."""


class Subscriber:
    """Receives on paho's network thread, handles batches on the caller's thread, then acknowledges."""

    def __init__(
        self,
        settings: BrokerSettings,
        handle: Handler,
        *,
        batch_size: int = 500,
        batch_wait_s: float = 0.02,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.settings = settings
        self.handle = handle
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.on_error = on_error or (lambda exc: log.exception("ingest batch failed", exc_info=exc))
        self.inbox: queue.Queue[Delivery] = queue.Queue()
        self.generation = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.acked = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: self.subscribed.set()
        self.client.reconnect_delay_set(1, 2)

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: object, _props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connect refused: %s", reason)
            return
        self.generation += 1
        client.subscribe(self.settings.topic, qos=1)
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.connected.clear()

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Delivery(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self.generation))

    def start(self, wait_s: float = 10.0) -> None:
        """Connect (resuming the stored session), start the network thread and wait until subscribed; raises
        BrokerUnavailableError."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        try:
            self.client.connect(
                self.settings.host, self.settings.port, self.settings.keepalive_s, clean_start=False, properties=props
            )
        except OSError as exc:
            raise BrokerUnavailableError(f"{self.settings.host}:{self.settings.port}: {exc}") from exc
        self.client.loop_start()
        if not (self.connected.wait(wait_s) and self.subscribed.wait(wait_s)):
            self.client.loop_stop()
            raise BrokerUnavailableError(f"{self.settings.host}:{self.settings.port}: no CONNACK or SUBACK")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _next_batch(self, timeout_s: float) -> list[Delivery]:
        try:
            batch = [self.inbox.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_size:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, 0.002))
        return batch

    def run(self, stop: threading.Event) -> None:
        """Handle batches until ``stop`` is set; a failing batch is retried, never acknowledged unhandled."""
        pending: list[Delivery] = []
        while not stop.is_set():
            if not pending:
                pending = self._next_batch(0.2)
                if not pending:
                    continue
            try:
                self.handle(pending)
            except Exception as exc:  # a broken batch (database down) must not stop ingestion
                self.on_error(exc)
                stop.wait(1.0)
                continue
            self._ack(pending)
            pending = []

    def _ack(self, batch: Sequence[Delivery]) -> None:
        for d in batch:
            # An ack for a delivery from an earlier connection could hit another message with the same id:
            # leave those; the broker sends them again and the second copy is a no-op.
            if d.qos > 0 and d.generation == self.generation and self.connected.is_set():
                self.client.ack(d.mid, d.qos)
                self.acked += 1


class Publisher:
    """A QoS 1 publisher (the simulator, the benchmark, tests)."""

    def __init__(self, settings: BrokerSettings, client_id: str = "", max_inflight: int = 1000) -> None:
        self.settings = settings
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.connected = threading.Event()
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_disconnect = lambda *_a: self.connected.clear()
        self.client.reconnect_delay_set(1, 2)

    def start(self, wait_s: float = 10.0) -> None:
        try:
            self.client.connect(self.settings.host, self.settings.port, self.settings.keepalive_s)
        except OSError as exc:
            raise BrokerUnavailableError(f"{self.settings.host}:{self.settings.port}: {exc}") from exc
        self.client.loop_start()
        if not self.connected.wait(wait_s):
            self.client.loop_stop()
            raise BrokerUnavailableError(f"{self.settings.host}:{self.settings.port}: no CONNACK")

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=qos)

    def publish_all(self, messages: Sequence[tuple[str, bytes]], timeout_s: float = 60.0) -> None:
        """Publish and wait until the broker has acknowledged every message."""
        infos = [self.publish(topic, payload) for topic, payload in messages]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(max(0.01, deadline - time.monotonic()))

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def broker_reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
