"""The SMS outbox on the in-memory fakes: one text per key, retries with backoff, quiet hours, the rate limits
per number and per minute, receipts and manual retries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import SH
from tests.unit.services.video_city import CIPHER
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.video.adapters.sms.base import SmsRejectedError
from xiuhua.video.adapters.sms.fake import FakeOptions, FakeSmsProvider
from xiuhua.video.domain.enforcement import SmsMessage, SmsState
from xiuhua.video.services.sms import (
    DeliveryReport,
    QueueSms,
    RecordReceipt,
    SmsPolicy,
    deliver_sms,
    queue_sms,
    record_receipt,
    retry_sms,
)

PARAMS = {"plate": "豫B12345", "time": "03-03 10:00", "place": "中山路", "grace": "15"}
PHONE = "13800000001"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=SH))


def queue(uow: FakeUnitOfWork, clock: FakeClock, key: str, phone: str = PHONE) -> tuple[int, bool]:
    return queue_sms(QueueSms(key, "parking_notice", phone, PARAMS), uow, clock, CIPHER)


def texts(uow: FakeUnitOfWork) -> dict[str, SmsMessage]:
    with uow:
        return {m.dedup_key: m for m in uow.video.outbox()}


def deliver(
    uow: FakeUnitOfWork, clock: FakeClock, provider: FakeSmsProvider, policy: SmsPolicy | None = None
) -> DeliveryReport:
    return deliver_sms(uow, clock, provider, CIPHER, policy)


# ----- queueing --------------------------------------------------------------------------------------
def test_one_text_per_key_and_the_number_never_kept_in_clear(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    first = queue(uow, clock, "parking-notice:e1")
    clock.advance(minutes=1)
    again = queue(uow, clock, "parking-notice:e1", phone="13900000009")
    assert first[1] and not again[1] and first[0] == again[0] and uow.commits == 2
    [m] = texts(uow).values()
    assert m.state is SmsState.QUEUED and m.attempts == 0 and m.next_attempt_at == m.created_at
    assert m.created_at == clock.now() - timedelta(minutes=1)  # the retry changed nothing
    assert m.phone_masked == "138****0001" and CIPHER.decrypt(m.phone_enc) == PHONE
    assert PHONE not in m.phone_enc + m.body + m.phone_digest
    assert "豫B12345" in m.body and "15分钟" in m.body and "中山路" in m.body


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (QueueSms("k1", "parking_notice", "12ab", PARAMS), "sms.bad_phone"),
        (QueueSms("k2", "parking_notice", "123456", PARAMS), "sms.bad_phone"),  # too short
        (QueueSms("k3", "parking_notice", "1" * 16, PARAMS), "sms.bad_phone"),  # too long
        (QueueSms("k4", "parking_notice", "", PARAMS), "sms.bad_phone"),
        (QueueSms("k5", "nope", PHONE, PARAMS), "sms.unknown_template"),
        (QueueSms("k6", "parking_notice", PHONE, {"plate": "x"}), "sms.missing_param"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    uow: FakeUnitOfWork, clock: FakeClock, cmd: QueueSms, code: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        queue_sms(cmd, uow, clock, CIPHER)
    assert info.value.code == code and texts(uow) == {} and uow.commits == 0


# ----- delivery --------------------------------------------------------------------------------------
def test_a_due_text_goes_out_with_its_key_as_the_client_reference(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    sms_id, _ = queue(uow, clock, "e1")
    provider = FakeSmsProvider()
    report = deliver(uow, clock, provider)
    assert report == DeliveryReport(sent=1)
    [sent] = provider.sent
    assert (sent.phone, sent.dedup_key) == (PHONE, "e1") and "豫B12345" in sent.text
    m = texts(uow)["e1"]
    assert m.id == sms_id and m.state is SmsState.SENT and m.provider_id == "fake-1" and m.attempts == 1
    assert m.sent_at == clock.now() and m.next_attempt_at is None and m.last_error is None
    assert deliver(uow, clock, provider) == DeliveryReport() and len(provider.sent) == 1  # nothing left due


def test_retries_back_off_then_give_up(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e1")
    provider = FakeSmsProvider(FakeOptions(fail_first=10))
    policy = SmsPolicy(max_attempts=3)
    report = deliver(uow, clock, provider, policy)
    m = texts(uow)["e1"]
    assert report.retried == 1 and m.attempts == 1 and m.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert m.last_error and "sms.gateway_down" in m.last_error and m.state is SmsState.QUEUED
    assert deliver(uow, clock, provider, policy) == DeliveryReport()  # not due yet
    clock.advance(minutes=1)
    deliver(uow, clock, provider, policy)
    assert texts(uow)["e1"].next_attempt_at == clock.now() + timedelta(minutes=2)  # doubled
    clock.advance(minutes=2)
    report = deliver(uow, clock, provider, policy)
    m = texts(uow)["e1"]
    assert report.failed == 1 and m.state is SmsState.FAILED and m.attempts == 3 and m.next_attempt_at is None
    assert provider.sent == [] and provider.failures_left == 7
    clock.advance(hours=1)
    assert deliver(uow, clock, provider, policy) == DeliveryReport()  # failed for good: never tried again


def test_a_manual_retry_puts_a_failed_text_back_in_the_queue(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e1")
    provider = FakeSmsProvider(FakeOptions(fail_first=1))
    deliver(uow, clock, provider, SmsPolicy(max_attempts=1))
    m = texts(uow)["e1"]
    assert m.state is SmsState.FAILED
    clock.advance(minutes=30)
    retry_sms(m.id or 0, uow, clock)
    m = texts(uow)["e1"]
    assert m.state is SmsState.QUEUED and m.attempts == 0 and m.next_attempt_at == clock.now()
    assert deliver(uow, clock, provider).sent == 1
    m = texts(uow)["e1"]
    assert m.state is SmsState.SENT and m.provider_id == "fake-1" and m.last_error is None
    with pytest.raises(InvalidInputError) as info:
        retry_sms(m.id or 0, uow, clock)  # sent: nothing to retry
    assert info.value.code == "sms.not_failed"
    with pytest.raises(NotFoundError):
        retry_sms(999, uow, clock)


def test_a_queued_text_cannot_be_retried(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    sms_id, _ = queue(uow, clock, "e1")
    with pytest.raises(InvalidInputError) as info:
        retry_sms(sms_id, uow, clock)
    assert info.value.code == "sms.not_failed" and uow.commits == 1


def test_a_rejected_text_is_not_retried(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    class Rejecting(FakeSmsProvider):
        def send(self, phone: str, text: str, dedup_key: str) -> str:
            raise SmsRejectedError("sms.rejected", "号码已停机")

    queue(uow, clock, "e1")
    report = deliver(uow, clock, Rejecting())
    m = texts(uow)["e1"]
    assert report == DeliveryReport(failed=1) and m.state is SmsState.FAILED and m.attempts == 1
    assert m.last_error == "[sms.rejected] 号码已停机"


def test_a_gateway_crash_mid_batch_keeps_nothing_of_the_batch(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    """What the gateway took before the crash is sent again later, under the same client reference."""

    class Crashing(FakeSmsProvider):
        def send(self, phone: str, text: str, dedup_key: str) -> str:
            if dedup_key == "e2":
                raise RuntimeError("connection reset")
            return super().send(phone, text, dedup_key)

    queue(uow, clock, "e1")
    queue(uow, clock, "e2", phone="13900000009")
    crashing = Crashing()
    with pytest.raises(RuntimeError):
        deliver(uow, clock, crashing)
    assert [s.dedup_key for s in crashing.sent] == ["e1"]
    assert all(m.state is SmsState.QUEUED and m.attempts == 0 for m in texts(uow).values())
    provider = FakeSmsProvider()
    assert deliver(uow, clock, provider).sent == 2
    assert [s.dedup_key for s in provider.sent] == ["e1", "e2"]


def test_the_oldest_due_texts_go_first_up_to_the_limit(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    for i in range(3):
        queue(uow, clock, f"e{i}", phone=f"1380000000{i}")
        clock.advance(seconds=1)
    provider = FakeSmsProvider()
    assert deliver_sms(uow, clock, provider, CIPHER, limit=2).sent == 2
    assert [s.dedup_key for s in provider.sent] == ["e0", "e1"]
    assert deliver_sms(uow, clock, provider, CIPHER, limit=2).sent == 1


# ----- quiet hours and rate limits -------------------------------------------------------------------
def test_quiet_hours_defer_until_morning(uow: FakeUnitOfWork) -> None:
    clock = FakeClock(datetime(2026, 3, 3, 23, 30, tzinfo=SH))
    queue(uow, clock, "night")
    provider = FakeSmsProvider()
    report = deliver(uow, clock, provider)
    assert report == DeliveryReport(deferred=1) and provider.sent == []
    m = texts(uow)["night"]
    assert m.next_attempt_at == datetime(2026, 3, 4, 7, 0, tzinfo=SH) and m.attempts == 0
    clock.set(datetime(2026, 3, 4, 6, 59, tzinfo=SH))
    assert deliver(uow, clock, provider) == DeliveryReport()  # not due yet
    clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=SH))
    assert deliver(uow, clock, provider).sent == 1


def test_early_morning_waits_for_seven(uow: FakeUnitOfWork) -> None:
    clock = FakeClock(datetime(2026, 3, 4, 6, 30, tzinfo=SH))
    queue(uow, clock, "dawn")
    assert deliver(uow, clock, FakeSmsProvider()).deferred == 1
    assert texts(uow)["dawn"].next_attempt_at == datetime(2026, 3, 4, 7, 0, tzinfo=SH)


def test_at_most_so_many_texts_a_day_to_one_number(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    for i in range(4):
        queue(uow, clock, f"same-{i}")
    queue(uow, clock, "other", phone="13900000009")
    provider = FakeSmsProvider()
    policy = SmsPolicy(per_phone_per_day=3, per_minute=100)
    report = deliver(uow, clock, provider, policy)
    assert report == DeliveryReport(sent=4, deferred=1)  # the fourth text to the same number waits
    held = texts(uow)["same-3"]
    assert held.state is SmsState.QUEUED and held.next_attempt_at == clock.now() + timedelta(hours=1)
    assert sorted(s.phone for s in provider.sent) == [PHONE] * 3 + ["13900000009"]
    clock.advance(hours=1)
    assert deliver(uow, clock, provider, policy).deferred == 1  # the day is not over for that number
    clock.advance(hours=23)
    assert deliver(uow, clock, provider, policy).deferred == 1  # a day to the second still counts
    assert texts(uow)["same-3"].next_attempt_at == clock.now() + timedelta(hours=1)
    clock.advance(hours=1)
    assert deliver(uow, clock, provider, policy).sent == 1
    assert texts(uow)["same-3"].state is SmsState.SENT


def test_at_most_so_many_texts_a_minute_to_all(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    for i in range(5):
        queue(uow, clock, f"e{i}", phone=f"1380000000{i}")
    provider = FakeSmsProvider()
    report = deliver(uow, clock, provider, SmsPolicy(per_minute=3))
    assert report == DeliveryReport(sent=3, deferred=2)
    assert {m.next_attempt_at for m in texts(uow).values() if m.state is SmsState.QUEUED} == {
        clock.now() + timedelta(minutes=1)
    }
    clock.advance(seconds=30)
    assert deliver(uow, clock, provider, SmsPolicy(per_minute=3)) == DeliveryReport()  # deferred texts not due
    clock.advance(seconds=30)
    assert deliver(uow, clock, provider, SmsPolicy(per_minute=3)).deferred == 2  # a minute to the second counts
    clock.advance(minutes=1)
    assert deliver(uow, clock, provider, SmsPolicy(per_minute=3)).sent == 2
    assert len(provider.sent) == 5


def test_a_failed_attempt_does_not_count_against_the_minute(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    for i in range(3):
        queue(uow, clock, f"e{i}", phone=f"1380000000{i}")
    report = deliver(uow, clock, FakeSmsProvider(FakeOptions(fail_first=1)), SmsPolicy(per_minute=2))
    assert report == DeliveryReport(sent=2, retried=1)


# ----- receipts --------------------------------------------------------------------------------------
def test_receipts_mark_delivery(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e1")
    provider = FakeSmsProvider()
    deliver(uow, clock, provider)
    clock.advance(seconds=20)
    receipt = provider.parse_receipt({"id": "fake-1", "status": "delivered"})
    sms_id = record_receipt(RecordReceipt(receipt.provider_id, receipt.delivered), uow, clock)
    m = texts(uow)["e1"]
    assert m.id == sms_id and m.state is SmsState.DELIVERED and m.receipt_at == clock.now()
    record_receipt(RecordReceipt("fake-1", True), uow, clock)  # a repeat is harmless
    assert texts(uow)["e1"].state is SmsState.DELIVERED
    with pytest.raises(NotFoundError) as info:
        record_receipt(RecordReceipt("nope", True), uow, clock)
    assert info.value.code == "sms.not_found"


def test_an_undelivered_text_keeps_the_reason_and_may_be_sent_again(uow: FakeUnitOfWork, clock: FakeClock) -> None:
    queue(uow, clock, "e2", phone="13900000002")
    provider = FakeSmsProvider()
    deliver(uow, clock, provider)
    record_receipt(RecordReceipt("fake-1", False, "用户关机"), uow, clock)
    m = texts(uow)["e2"]
    assert m.state is SmsState.UNDELIVERED and m.last_error == "用户关机"
    record_receipt(RecordReceipt("fake-1", False), uow, clock)
    assert texts(uow)["e2"].last_error is None  # a receipt without detail clears the old one
    retry_sms(m.id or 0, uow, clock)
    assert texts(uow)["e2"].state is SmsState.QUEUED
    clock.advance(hours=1)
    assert deliver(uow, clock, provider).sent == 1 and len(provider.sent) == 2
