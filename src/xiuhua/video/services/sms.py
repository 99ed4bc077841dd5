"""The SMS outbox: templated texts queued once per event, sent with retries and backoff, rate limits and
quiet hours, and delivery receipts. Numbers are stored encrypted and shown masked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from xiuhua.kernel.errors import DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.video.domain.enforcement import SmsMessage, SmsState, mask_phone
from xiuhua.video.ports import VideoUnitOfWork

LOCAL = ZoneInfo("Asia/Shanghai")

TEMPLATES = {
    "parking_notice": (
        "【绣花城管】您的车辆{plate}于{time}停放在{place}（人行道禁停区域），请于{grace}分钟内驶离。"
        "逾期未驶离将依法立案处理。"
    ),
    "vending_alert": "【绣花城管】{place}发现占道经营，案件{case_no}已派遣，请及时处置。",
}


class Cipher(Protocol):
    def encrypt(self, phone: str) -> str: ...
    def decrypt(self, token: str) -> str: ...
    def digest(self, phone: str) -> str: ...


class SmsSender(Protocol):
    def send(self, phone: str, text: str, dedup_key: str) -> str:
        """The gateway's message id; raises a DomainError whose `retryable` says whether to try again."""
        ...


@dataclass(frozen=True, slots=True)
class SmsPolicy:
    """Retries back off 1, 2, 4 … minutes (capped); quiet hours and rate limits defer a text, never drop it."""

    max_attempts: int = 5
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 0)
    per_phone_per_day: int = 3
    per_minute: int = 60

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.backoff_base * 2 ** max(0, attempts - 1)
        return min(self.backoff_cap, delay)

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours if `now` (UTC) falls in them, local time Asia/Shanghai."""
        local = now.astimezone(LOCAL)
        t = local.time()
        quiet = (
            t >= self.quiet_start or t < self.quiet_end
            if self.quiet_start > self.quiet_end
            else (self.quiet_start <= t < self.quiet_end)
        )
        if not quiet:
            return None
        end = datetime.combine(local.date(), self.quiet_end, LOCAL)
        return end if end > local else end + timedelta(days=1)


class UnknownTemplateError(InvalidInputError):
    pass


def render(template: str, params: dict[str, str]) -> str:
    """The text of a template; raises UnknownTemplateError, or InvalidInputError for a missing parameter."""
    if template not in TEMPLATES:
        raise UnknownTemplateError("sms.unknown_template", f"未知的短信模板“{template}”", template=template)
    try:
        return TEMPLATES[template].format(**params)
    except KeyError as exc:
        raise InvalidInputError("sms.missing_param", f"短信模板“{template}”缺少参数 {exc.args[0]}") from exc


def enqueue(
    uow: VideoUnitOfWork,
    cipher: Cipher,
    now: datetime,
    dedup_key: str,
    template: str,
    phone: str,
    params: dict[str, str],
) -> tuple[SmsMessage, bool]:
    """Queue a text inside the caller's transaction; the same key returns the queued one (created False)."""
    if not phone.isdigit() or not 7 <= len(phone) <= 15:
        raise InvalidInputError("sms.bad_phone", "手机号格式不正确")
    if existing := uow.video.sms_by_key(dedup_key):
        return existing, False
    message = SmsMessage(
        None, dedup_key, template, cipher.encrypt(phone), cipher.digest(phone), mask_phone(phone),
        render(template, params), SmsState.QUEUED, 0, now, now,
    )  # fmt: skip
    uow.video.add_sms(message)
    return message, True


@dataclass(frozen=True, slots=True)
class QueueSms:
    dedup_key: str
    template: str
    phone: str
    params: dict[str, str] = field(default_factory=dict)


def queue_sms(cmd: QueueSms, uow: VideoUnitOfWork, clock: Clock, cipher: Cipher) -> tuple[int, bool]:
    """Queue one text (idempotent by dedup key); returns (id, created)."""
    with uow:
        message, created = enqueue(uow, cipher, clock.now(), cmd.dedup_key, cmd.template, cmd.phone, cmd.params)
        uow.commit()
    assert message.id is not None
    return message.id, created


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0


def deliver_sms(
    uow: VideoUnitOfWork,
    clock: Clock,
    sender: SmsSender,
    cipher: Cipher,
    policy: SmsPolicy | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """Send the texts that are due. The dedup key goes to the gateway as its client reference, so a text
    sent just before a crash is not sent twice by a gateway that honours it."""
    policy = policy or SmsPolicy()
    now = clock.now()
    report = DeliveryReport()
    with uow:
        due = uow.video.due_sms(now, limit)
        quiet = policy.quiet_until(now)
        sent_this_minute = uow.video.sent_since(None, now - timedelta(minutes=1))
        for m in due:
            if quiet is not None:
                m.next_attempt_at, report.deferred = quiet, report.deferred + 1
            elif sent_this_minute >= policy.per_minute:
                m.next_attempt_at, report.deferred = now + timedelta(minutes=1), report.deferred + 1
            elif uow.video.sent_since(m.phone_digest, now - timedelta(days=1)) >= policy.per_phone_per_day:
                m.next_attempt_at, report.deferred = now + timedelta(hours=1), report.deferred + 1
            else:
                _attempt(m, sender, cipher, policy, now, report)
                sent_this_minute += m.state is SmsState.SENT
            uow.video.save_sms(m)
        uow.commit()
    return report


def _attempt(
    m: SmsMessage, sender: SmsSender, cipher: Cipher, policy: SmsPolicy, now: datetime, report: DeliveryReport
) -> None:
    m.attempts += 1
    try:
        m.provider_id = sender.send(cipher.decrypt(m.phone_enc), m.body, m.dedup_key)
    except DomainError as exc:
        m.last_error = f"[{exc.code}] {exc.message}"
        if getattr(exc, "retryable", False) and m.attempts < policy.max_attempts:
            m.next_attempt_at, report.retried = now + policy.backoff(m.attempts), report.retried + 1
        else:
            m.state, m.next_attempt_at, report.failed = SmsState.FAILED, None, report.failed + 1
        return
    m.state, m.sent_at, m.next_attempt_at, m.last_error = SmsState.SENT, now, None, None
    report.sent += 1


@dataclass(frozen=True, slots=True)
class RecordReceipt:
    provider_id: str
    delivered: bool
    detail: str = ""


def record_receipt(cmd: RecordReceipt, uow: VideoUnitOfWork, clock: Clock) -> int:
    """Mark a sent text delivered or undelivered; repeats are harmless; raises NotFoundError."""
    with uow:
        m = uow.video.sms_by_provider_id(cmd.provider_id)
        if m is None:
            raise NotFoundError("sms.not_found", f"找不到短信 {cmd.provider_id}", provider_id=cmd.provider_id)
        m.state = SmsState.DELIVERED if cmd.delivered else SmsState.UNDELIVERED
        m.receipt_at, m.last_error = clock.now(), (cmd.detail or None) if not cmd.delivered else m.last_error
        uow.video.save_sms(m)
        uow.commit()
    assert m.id is not None
    return m.id


def retry_sms(sms_id: int, uow: VideoUnitOfWork, clock: Clock) -> None:
    """Put a failed or undelivered text back in the queue; raises NotFoundError or InvalidInputError."""
    with uow:
        m = uow.video.sms(sms_id)
        if m is None:
            raise NotFoundError("sms.not_found", f"找不到短信 {sms_id}", sms_id=sms_id)
        if m.state not in (SmsState.FAILED, SmsState.UNDELIVERED):
            raise InvalidInputError("sms.not_failed", f"短信 {sms_id} 状态为 {m.state.value}，无需重发")
        m.state, m.attempts, m.next_attempt_at = SmsState.QUEUED, 0, clock.now()
        uow.video.save_sms(m)
        uow.commit()
