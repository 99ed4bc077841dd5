"""The sidewalk-parking notice flow as one transition table (pure).

capture -> read plate -> (unsure: human review) -> match owner -> SMS -> re-capture after the grace period
-> still there: a 机动车乱停放 case; moved: resolved by notice. No owner on record: a case at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from xiuhua.kernel.errors import ConflictError

MIN_CONFIDENCE = 0.6
"""Plate reads below this confidence, or that fit no layout, go to a person instead of an SMS."""


class NoticeState(StrEnum):
    CAPTURED = "captured"
    REVIEW = "review"  # 待人工复核
    NOTIFIED = "notified"  # 已短信告知，等待复查
    CASE_OPENED = "case_opened"  # 复查仍在：已立案
    RESOLVED = "resolved"  # 复查已驶离：告知后整改
    DISMISSED = "dismissed"  # 复核驳回

    @property
    def final(self) -> bool:
        return self in (NoticeState.CASE_OPENED, NoticeState.RESOLVED, NoticeState.DISMISSED)

    @property
    def label(self) -> str:
        return {
            "captured": "已抓拍",
            "review": "待人工复核",
            "notified": "已告知待复查",
            "case_opened": "已立案",
            "resolved": "告知后驶离",
            "dismissed": "已驳回",
        }[self.value]


class NoticeEvent(StrEnum):
    READ_SURE = "read_sure"
    READ_UNSURE = "read_unsure"
    REVIEW_CONFIRMED = "review_confirmed"
    REVIEW_REJECTED = "review_rejected"
    NOTIFIED = "notified"
    NO_OWNER = "no_owner"
    STILL_THERE = "still_there"
    MOVED = "moved"


S, E = NoticeState, NoticeEvent
TRANSITIONS: dict[tuple[NoticeState, NoticeEvent], NoticeState] = {
    (S.CAPTURED, E.READ_SURE): S.CAPTURED,  # read, now looking up the owner
    (S.CAPTURED, E.READ_UNSURE): S.REVIEW,
    (S.REVIEW, E.REVIEW_CONFIRMED): S.CAPTURED,
    (S.REVIEW, E.REVIEW_REJECTED): S.DISMISSED,
    (S.CAPTURED, E.NOTIFIED): S.NOTIFIED,
    (S.CAPTURED, E.NO_OWNER): S.CASE_OPENED,
    (S.NOTIFIED, E.STILL_THERE): S.CASE_OPENED,
    (S.NOTIFIED, E.MOVED): S.RESOLVED,
}


class NoticeTransitionError(ConflictError):
    def __init__(self, notice_id: int | None, state: NoticeState, event: NoticeEvent) -> None:
        super().__init__(
            "notice.transition_not_allowed",
            f"告知单 {notice_id} 处于“{state.label}”，不能执行 {event.value}",
            notice_id=notice_id,
            state=state.value,
            event=event.value,
        )


def next_state(notice_id: int | None, state: NoticeState, event: NoticeEvent) -> NoticeState:
    """The state after `event`; raises NoticeTransitionError when the table has no such move."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise NoticeTransitionError(notice_id, state, event) from None


def needs_review(valid: bool, confidence: float) -> bool:
    """Low-confidence or invalid reads go to a person, never straight to an SMS."""
    return not valid or confidence < MIN_CONFIDENCE


class SmsState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # retries exhausted or rejected by the gateway


@dataclass(slots=True)
class SmsMessage:
    """One text in the outbox; the phone is held encrypted and shown masked."""

    id: int | None
    dedup_key: str
    template: str
    phone_enc: str
    phone_digest: str
    phone_masked: str
    body: str
    state: SmsState
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    provider_id: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    receipt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    plate: str
    owner_name: str
    phone_enc: str
    phone_digest: str
    phone_masked: str


@dataclass(slots=True)
class ParkingNotice:
    """One vehicle stopped in a no-parking zone, followed from capture to case or resolution."""

    id: int | None
    event_key: str
    camera_code: str
    zone_code: str
    state: NoticeState
    plate_read: str
    plate_confidence: float
    plate_color: str
    box: tuple[int, int, int, int]
    first_capture: str
    plate_crop: str
    captured_at: datetime
    plate: str | None = None
    second_capture: str | None = None
    sms_id: int | None = None
    recheck_at: datetime | None = None
    reviewed_by: str | None = None
    case_no: str | None = None
    closed_at: datetime | None = None

    def apply(self, event: NoticeEvent) -> NoticeState:
        """Move by the transition table; raises NoticeTransitionError."""
        self.state = next_state(self.id, self.state, event)
        return self.state


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678': how a number is shown everywhere."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
