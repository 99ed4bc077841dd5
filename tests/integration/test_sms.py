"""The SMS outbox on SQLite and PostgreSQL: dedup, retries with backoff, quiet hours, rate limits, receipts;
and the HTTP gateway adapter against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.platform.db import tables as t
from xiuhua.unit_of_work import SqlUnitOfWork
from xiuhua.video.adapters.crypto import CipherError, PhoneCipher
from xiuhua.video.adapters.sms import load
from xiuhua.video.adapters.sms.base import SmsConfigError, SmsDeliveryError, SmsError, SmsRejectedError
from xiuhua.video.adapters.sms.fake import FakeOptions, FakeSmsProvider
from xiuhua.video.adapters.sms.http import HttpOptions, HttpSmsProvider, sign
from xiuhua.video.domain.enforcement import SmsState
from xiuhua.video.services.sms import (
    QueueSms,
    RecordReceipt,
    SmsPolicy,
    deliver_sms,
    queue_sms,
    record_receipt,
    retry_sms,
)

SH = ZoneInfo("Asia/Shanghai")
CIPHER = PhoneCipher("test-phone-key-0123456789abcdef")
PARAMS = {"plate": "豫B12345", "time": "03-03 09:00", "place": "中山路", "grace": "15"}


def queue(uow: SqlUnitOfWork, clock: FakeClock, key: str, phone: str = "13800000001") -> tuple[int, bool]:
    return queue_sms(QueueSms(key, "parking_notice", phone, PARAMS), uow, clock, CIPHER)


def outbox(uow: SqlUnitOfWork):  # type: ignore[no-untyped-def]
    with uow:
        return {m.dedup_key: m for m in uow.video.outbox()}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=SH))


def test_one_text_per_event_and_the_number_never_stored_in_clear(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    first = queue(uow, clock, "parking-notice:e1")
    again = queue(uow, clock, "parking-notice:e1")
    assert first[1] and not again[1] and first[0] == again[0]
    with uow:
        rows = uow.connection.execute(select(t.sms_messages)).all()
    assert len(rows) == 1
    assert "13800000001" not in json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
    assert rows[0].phone_masked == "138****0001" and CIPHER.decrypt(rows[0].phone_enc) == "13800000001"
    assert "豫B12345" in rows[0].body and "15分钟" in rows[0].body


def test_bad_input_is_refused_and_writes_nothing(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    for cmd, code in [
        (QueueSms("k1", "parking_notice", "12ab", PARAMS), "sms.bad_phone"),
        (QueueSms("k2", "nope", "13800000001", PARAMS), "sms.unknown_template"),
        (QueueSms("k3", "parking_notice", "13800000001", {"plate": "x"}), "sms.missing_param"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            queue_sms(cmd, uow, clock, CIPHER)
        assert info.value.code == code
    assert outbox(uow) == {}


def test_retries_back_off_then_give_up(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e1")
    provider = FakeSmsProvider(FakeOptions(fail_first=10))
    policy = SmsPolicy(max_attempts=3)
    report = deliver_sms(uow, clock, provider, CIPHER, policy)
    m = outbox(uow)["e1"]
    assert report.retried == 1 and m.attempts == 1 and m.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert m.last_error and "sms.gateway_down" in m.last_error
    assert deliver_sms(uow, clock, provider, CIPHER, policy).retried == 0  # not due yet
    clock.advance(minutes=1)
    deliver_sms(uow, clock, provider, CIPHER, policy)
    assert outbox(uow)["e1"].next_attempt_at == clock.now() + timedelta(minutes=2)  # doubled
    clock.advance(minutes=2)
    report = deliver_sms(uow, clock, provider, CIPHER, policy)
    m = outbox(uow)["e1"]
    assert report.failed == 1 and m.state is SmsState.FAILED and m.attempts == 3 and provider.sent == []
    retry_sms(m.id or 0, uow, clock)
    provider.failures_left = 0
    assert deliver_sms(uow, clock, provider, CIPHER, policy).sent == 1
    m = outbox(uow)["e1"]
    assert m.state is SmsState.SENT and m.provider_id == "fake-1" and len(provider.sent) == 1
    with pytest.raises(InvalidInputError) as info:
        retry_sms(m.id or 0, uow, clock)
    assert info.value.code == "sms.not_failed"
    with pytest.raises(NotFoundError):
        retry_sms(999, uow, clock)


def test_a_rejected_text_is_not_retried(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    class Rejecting(FakeSmsProvider):
        def send(self, phone: str, text: str, dedup_key: str) -> str:
            raise SmsRejectedError("sms.rejected", "号码已停机")

    queue(uow, clock, "e1")
    report = deliver_sms(uow, clock, Rejecting(), CIPHER)
    assert report.failed == 1 and outbox(uow)["e1"].state is SmsState.FAILED


def test_quiet_hours_defer_until_morning(uow: SqlUnitOfWork) -> None:
    clock = FakeClock(datetime(2026, 3, 3, 23, 30, tzinfo=SH))
    queue(uow, clock, "night")
    provider = FakeSmsProvider()
    report = deliver_sms(uow, clock, provider, CIPHER)
    assert report.deferred == 1 and provider.sent == []
    assert outbox(uow)["night"].next_attempt_at == datetime(2026, 3, 4, 7, 0, tzinfo=SH)
    clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=SH))
    assert deliver_sms(uow, clock, provider, CIPHER).sent == 1


def test_rate_limits_per_number_and_per_minute(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    for i in range(4):
        queue(uow, clock, f"same-{i}")
    queue(uow, clock, "other", phone="13900000009")
    provider = FakeSmsProvider()
    report = deliver_sms(uow, clock, provider, CIPHER, SmsPolicy(per_phone_per_day=3, per_minute=100))
    assert report.sent == 4 and report.deferred == 1  # the fourth text to the same number waits
    queue(uow, clock, "burst", phone="13700000007")
    report = deliver_sms(uow, clock, provider, CIPHER, SmsPolicy(per_minute=4))
    assert report.sent == 0 and report.deferred == 1  # four already went out this minute


def test_receipts_mark_delivery(uow: SqlUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e1")
    provider = FakeSmsProvider()
    deliver_sms(uow, clock, provider, CIPHER)
    receipt = provider.parse_receipt({"id": "fake-1", "status": "delivered"})
    record_receipt(RecordReceipt(receipt.provider_id, receipt.delivered), uow, clock)
    m = outbox(uow)["e1"]
    assert m.state is SmsState.DELIVERED and m.receipt_at == clock.now()
    with pytest.raises(NotFoundError) as info:
        record_receipt(RecordReceipt("nope", True), uow, clock)
    assert info.value.code == "sms.not_found"
    queue(uow, clock, "e2", phone="13900000002")
    deliver_sms(uow, clock, provider, CIPHER)
    record_receipt(RecordReceipt("fake-2", False, "用户关机"), uow, clock)
    m = outbox(uow)["e2"]
    assert m.state is SmsState.UNDELIVERED and m.last_error == "用户关机"
    retry_sms(m.id or 0, uow, clock)  # an undelivered text may be sent again
    assert outbox(uow)["e2"].state is SmsState.QUEUED
    with pytest.raises(SmsError) as bad:
        provider.parse_receipt({"status": "delivered"})
    assert bad.value.code == "sms.bad_receipt"


def test_cipher_refuses_a_foreign_key_and_hashes_stably() -> None:
    token = CIPHER.encrypt("13800000001")
    assert token != CIPHER.encrypt("13800000001")  # random nonce
    assert CIPHER.digest("13800000001") == PhoneCipher("test-phone-key-0123456789abcdef").digest("13800000001")
    with pytest.raises(CipherError) as info:
        PhoneCipher("another-key-0123456789abcdef").decrypt(token)
    assert info.value.code == "crypto.bad_token"
    with pytest.raises(CipherError):
        PhoneCipher("short")


# ----- the HTTP gateway ------------------------------------------------------------------------------
class Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append({"headers": dict(self.headers), "body": body})
        self.send_response(Gateway.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"gw-{len(Gateway.received)}"}).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    Gateway.received, Gateway.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()


def test_http_provider_signs_and_maps_errors(gateway: str) -> None:
    provider = HttpSmsProvider(HttpOptions(url=gateway, api_key="k1", secret=SecretStr("s3cret")))
    assert provider.send("13800000001", "你好", "e1") == "gw-1"
    request = Gateway.received[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-api-key"] == "k1"
    assert headers["x-signature"] == sign("s3cret", headers["x-timestamp"], request["body"])
    assert json.loads(request["body"]) == {"phone": "13800000001", "text": "你好", "client_ref": "e1"}
    Gateway.status = 400
    with pytest.raises(SmsRejectedError):
        provider.send("13800000001", "你好", "e2")
    Gateway.status = 503
    with pytest.raises(SmsDeliveryError) as info:
        provider.send("13800000001", "你好", "e3")
    assert info.value.retryable
    down = HttpSmsProvider(HttpOptions(url="http://127.0.0.1:9/sms", api_key="k", secret=SecretStr("s"), timeout_s=1))
    with pytest.raises(SmsDeliveryError) as info:
        down.send("13800000001", "你好", "e4")
    assert info.value.code == "sms.gateway_unreachable"


def test_registry_loads_by_name_and_validates_options(gateway: str) -> None:
    assert isinstance(load("fake"), FakeSmsProvider)
    assert isinstance(load("http", {"url": gateway, "api_key": "k", "secret": "s"}), HttpSmsProvider)
    assert isinstance(load("xiuhua.video.adapters.sms.fake.FakeSmsProvider"), FakeSmsProvider)
    for name, options, code in [
        ("nope", None, "sms.unknown_provider"),
        ("http", {"url": gateway}, "sms.bad_options"),
        ("fake", {"unknown": 1}, "sms.bad_options"),
    ]:
        with pytest.raises(SmsConfigError) as info:
            load(name, options)
        assert info.value.code == code
