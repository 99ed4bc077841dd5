"""Video enforcement: the sidewalk-parking notice flow and street-vending cases.

Parking: capture -> read plate -> (unsure: review queue) -> owner -> SMS -> re-capture after the grace period
-> still there: a 机动车乱停放 case with both captures, the plate crop and the SMS record (hashed) as evidence,
dispatched to the zone's department; moved: resolved by notice. Vending: a 占道经营 case at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from xiuhua.cases.domain.commands import ActOnCase, ReportCase, Reported
from xiuhua.cases.domain.workflow import Action, Source
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR, Actor
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.model import ClassKind
from xiuhua.video.domain.enforcement import (
    NoticeEvent,
    NoticeState,
    ParkingNotice,
    SmsMessage,
    SmsState,
    needs_review,
)
from xiuhua.video.domain.model import Camera, Zone
from xiuhua.video.domain.plates import PlateColor, check_plate
from xiuhua.video.ports import VideoUnitOfWork
from xiuhua.video.services.sms import Cipher, enqueue

LOCAL = ZoneInfo("Asia/Shanghai")
PARKING_CLASS = "09009"  # 机动车乱停放 (GB/T 47678.5-2026 matter class)
VENDING_CLASS = "09006"  # 占道经营


class Evidence(Protocol):
    def put(self, data: bytes) -> StoredFile: ...
    def get(self, sha256: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class EnforcementPolicy:
    """`desk` is the video desk account that verifies, files and dispatches machine-found cases; without
    one the cases wait for the acceptors like any other report."""

    grace_minutes: float = 15
    desk: Actor | None = None


@dataclass(frozen=True, slots=True)
class PlateEvidence:
    text: str
    confidence: float
    color: str
    valid: bool


@dataclass(frozen=True, slots=True)
class ParkingCapture:
    camera: Camera
    zone: Zone
    event_key: str
    box: tuple[int, int, int, int]
    frame_jpeg: bytes
    crop_jpeg: bytes
    plate: PlateEvidence


@dataclass(frozen=True, slots=True)
class Deps:
    """What the enforcement use cases need besides the unit of work and the clock."""

    store: Evidence
    cipher: Cipher
    handle: Handle
    """Sends the cases' commands (``bootstrap.messagebus(...).handle``)."""
    policy: EnforcementPolicy


def open_parking_notice(cap: ParkingCapture, uow: VideoUnitOfWork, clock: Clock, deps: Deps) -> ParkingNotice:
    """Record a capture (idempotent by event key), then notify the owner, queue it for review, or open a case."""
    now = clock.now()
    first, crop = deps.store.put(cap.frame_jpeg), deps.store.put(cap.crop_jpeg)
    with uow:
        if existing := uow.video.notice_by_key(cap.event_key):
            return existing
        notice = ParkingNotice(
            None, cap.event_key, cap.camera.code, cap.zone.code, NoticeState.CAPTURED, cap.plate.text,
            cap.plate.confidence, cap.plate.color, cap.box, first.sha256, crop.sha256, now,
        )  # fmt: skip
        uow.video.add_notice(notice)
        if needs_review(cap.plate.valid, cap.plate.confidence):
            notice.apply(NoticeEvent.READ_UNSURE)
            uow.video.save_notice(notice)
            uow.commit()
            return notice
        notice.apply(NoticeEvent.READ_SURE)
        notice.plate = check_plate(cap.plate.text)
        no_owner = _notify(notice, cap.camera, cap.zone, uow, now, deps)
        uow.video.save_notice(notice)
        uow.commit()
    if no_owner:
        _open_parking_case(notice, cap.camera, cap.zone, None, uow, clock, deps)
    return notice


def _notify(notice: ParkingNotice, camera: Camera, zone: Zone, uow: VideoUnitOfWork, now: datetime, deps: Deps) -> bool:
    """Queue the owner's SMS and set the recheck; True when no owner is on record (a case is due at once)."""
    assert notice.plate is not None
    vehicle = uow.video.vehicle(notice.plate)
    if vehicle is None:
        notice.apply(NoticeEvent.NO_OWNER)
        return True
    params = {
        "plate": notice.plate,
        "time": notice.captured_at.astimezone(LOCAL).strftime("%m-%d %H:%M"),
        "place": zone.address or zone.name or camera.name,
        "grace": f"{deps.policy.grace_minutes:g}",
    }
    phone = deps.cipher.decrypt(vehicle.phone_enc)
    message, _ = enqueue(uow, deps.cipher, now, f"parking-notice:{notice.event_key}", "parking_notice", phone, params)
    notice.sms_id = message.id
    notice.recheck_at = now + timedelta(minutes=deps.policy.grace_minutes)
    notice.apply(NoticeEvent.NOTIFIED)
    return False


@dataclass(frozen=True, slots=True)
class ReviewNotice:
    notice_id: int
    reviewer: str
    plate: str | None
    """The plate as the reviewer reads it; None rejects the capture (no vehicle, unreadable, not a violation)."""


def review_notice(cmd: ReviewNotice, uow: VideoUnitOfWork, clock: Clock, deps: Deps) -> ParkingNotice:
    """A person's decision on an unsure read: confirm (maybe corrected) and notify, or reject."""
    now = clock.now()
    with uow:
        notice = uow.video.notice(cmd.notice_id)
        if notice is None:
            raise NotFoundError("notice.not_found", f"告知单 {cmd.notice_id} 不存在", notice_id=cmd.notice_id)
        camera = uow.video.camera(notice.camera_code)
        assert camera is not None
        zone = next(z for z in camera.zones if z.code == notice.zone_code)
        notice.reviewed_by = cmd.reviewer
        if cmd.plate is None:
            notice.apply(NoticeEvent.REVIEW_REJECTED)
            notice.closed_at = now
            no_owner = False
        else:
            plate = check_plate(cmd.plate)
            notice.apply(NoticeEvent.REVIEW_CONFIRMED)
            notice.plate = plate
            no_owner = _notify(notice, camera, zone, uow, now, deps)
        uow.video.save_notice(notice)
        uow.commit()
    if no_owner:
        _open_parking_case(notice, camera, zone, None, uow, clock, deps)
    return notice


def grace_over(notice: ParkingNotice, sms: SmsMessage | None, now: datetime, grace_minutes: float) -> bool:
    """The owner has had the grace period since the text went out; a text held back (quiet hours, rate limits,
    retries) holds the recheck back too, and one that failed for good does not."""
    if sms is None or sms.state is SmsState.FAILED:
        return True
    return sms.sent_at is not None and now >= sms.sent_at + timedelta(minutes=grace_minutes)


def recheck_notice(
    notice_id: int, still_there: bool, frame_jpeg: bytes, uow: VideoUnitOfWork, clock: Clock, deps: Deps
) -> ParkingNotice:
    """The second capture after the grace period: a case if the vehicle is still there, else resolved."""
    second = deps.store.put(frame_jpeg)
    with uow:
        notice = uow.video.notice(notice_id)
        if notice is None:
            raise NotFoundError("notice.not_found", f"告知单 {notice_id} 不存在", notice_id=notice_id)
        camera = uow.video.camera(notice.camera_code)
        assert camera is not None
        zone = next(z for z in camera.zones if z.code == notice.zone_code)
        notice.second_capture = second.sha256
        notice.apply(NoticeEvent.STILL_THERE if still_there else NoticeEvent.MOVED)
        if not still_there:
            notice.closed_at = clock.now()
        sms = uow.video.sms(notice.sms_id) if notice.sms_id else None
        uow.video.save_notice(notice)
        uow.commit()
    if still_there:
        _open_parking_case(notice, camera, zone, sms, uow, clock, deps)
    return notice


def sms_record_digest(sms: SmsMessage | None) -> str | None:
    """SHA-256 of the SMS record as canonical JSON (masked number): what the case log pins."""
    if sms is None:
        return None
    record = {
        "id": sms.id,
        "dedup_key": sms.dedup_key,
        "phone": sms.phone_masked,
        "body": sms.body,
        "state": sms.state.value,
        "attempts": sms.attempts,
        "provider_id": sms.provider_id,
        "created_at": sms.created_at.isoformat(),
        "sent_at": sms.sent_at.isoformat() if sms.sent_at else None,
        "receipt_at": sms.receipt_at.isoformat() if sms.receipt_at else None,
    }
    return hashlib.sha256(json.dumps(record, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _location(camera: Camera, zone: Zone) -> Location:
    if not (zone.district_code and zone.street_code and zone.community_code):
        raise InvalidInputError("zone.no_place", f"区域 {zone.code} 未配置所属区、街道和社区，无法立案", zone=zone.code)
    return Location(
        zone.lon if zone.lon is not None else camera.lon,
        zone.lat if zone.lat is not None else camera.lat,
        zone.address or zone.name or camera.name,
        zone.district_code, zone.street_code, zone.community_code, zone.grid_code, zone.area_class,
    )  # fmt: skip


def _open_parking_case(
    notice: ParkingNotice,
    camera: Camera,
    zone: Zone,
    sms: SmsMessage | None,
    uow: VideoUnitOfWork,
    clock: Clock,
    deps: Deps,
) -> str:
    shas = [notice.first_capture, notice.plate_crop] + ([notice.second_capture] if notice.second_capture else [])
    photos = tuple(deps.store.put(deps.store.get(sha)) for sha in shas)
    sms_digest = sms_record_digest(sms)
    local = notice.captured_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    plate = notice.plate or notice.plate_read
    if sms is not None and sms_digest:
        sent = f"已于 {sms.sent_at.astimezone(LOCAL).strftime('%H:%M')} 发送" if sms.sent_at else "已排队（尚未发出）"
        told = (
            f"告知短信{sent}（{sms.phone_masked}），{deps.policy.grace_minutes:g} 分钟后复查仍未驶离；"
            f"短信记录 sha256:{sms_digest}"
        )
    else:
        told = "车辆登记库无此车主，无法短信告知"
    color = _color_label(notice.plate_color)
    description = (
        f"{camera.name}（{camera.code}）{zone.name or zone.kind.label}：车辆 {plate}（{color}，"
        f"识别置信度 {notice.plate_confidence:.2f}）于 {local} 起违规停放。{told}"
    )
    case_no = _open_case(PARKING_CLASS, camera, zone, description, photos, f"parking-{notice.id}", uow, clock, deps)
    with uow:
        saved = uow.video.notice(notice.id or 0)
        assert saved is not None
        saved.case_no = notice.case_no = case_no
        saved.closed_at = notice.closed_at = clock.now()
        uow.video.save_notice(saved)
        uow.commit()
    return case_no


def report_vending(
    camera: Camera, zone: Zone, event_key: str, frames: list[bytes], uow: VideoUnitOfWork, clock: Clock, deps: Deps
) -> str:
    """A 占道经营 case with the evidence frames, verified, filed and dispatched at once by the video desk."""
    photos = tuple(deps.store.put(f) for f in frames)
    local = clock.now().astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    description = (
        f"{camera.name}（{camera.code}）{zone.name or zone.kind.label}：发现摊点、人员和货物占道经营，"
        f"持续超过 {zone.dwell_minutes:g} 分钟（{local}）"
    )
    return _open_case(VENDING_CLASS, camera, zone, description, photos, f"vending-{event_key}", uow, clock, deps)


def _open_case(
    class_code: str,
    camera: Camera,
    zone: Zone,
    description: str,
    photos: tuple[StoredFile, ...],
    key: str,
    uow: VideoUnitOfWork,
    clock: Clock,
    deps: Deps,
) -> str:
    reported: Reported = deps.handle(
        ReportCase(
            actor=SYSTEM_ACTOR,
            source=Source.VIDEO,
            kind=ClassKind.MATTER,
            class_code=class_code,
            location=_location(camera, zone),
            description=description,
            reporter=f"视频智能发现 {camera.code}",
            idempotency_key=key[:64],
            photos=photos,
        ),
        clock=clock,
    )
    desk = deps.policy.desk
    if reported.created and desk is not None:
        standard_id = _standard_id(uow, class_code)
        steps: list[tuple[Action, dict[str, object]]] = [
            (Action.SEND_VERIFY, {}),
            (Action.VERIFY, {"reason": "视频抓拍证据核实属实", "photos": photos[-1:]}),
            (Action.FILE, {"standard_id": standard_id}),
            (Action.DISPATCH, {"department_code": zone.department_code}),
        ]
        for action, extra in steps:
            deps.handle(ActOnCase(reported.case_no, action, desk, **extra), clock=clock)  # type: ignore[arg-type]
    return reported.case_no


def _color_label(value: str) -> str:
    try:
        return PlateColor(value).label
    except ValueError:
        return value


def _standard_id(uow: VideoUnitOfWork, class_code: str) -> int | None:
    with uow:
        for s in uow.catalog.standards():
            if s.kind is ClassKind.MATTER and s.code == class_code:
                return s.id
    return None
