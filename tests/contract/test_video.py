"""The video store's contract (video.ports.VideoStore): cameras, the vehicle registry, the SMS outbox and
parking notices, as the enforcement and SMS services rely on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from xiuhua.video.domain.enforcement import NoticeState, ParkingNotice, SmsMessage, SmsState, Vehicle
from xiuhua.video.domain.model import Camera, Zone, ZoneKind

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
SQUARE = ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0))
WALK = Zone(
    "Z1", ZoneKind.NO_PARKING, SQUARE, 5, "124102001000000000", 114.35, 34.8, "中山路人行道", "中山路 1 号",
    "410202", "410202001", "410202001009", "41020200100901", "B",
)  # fmt: skip
STALLS = Zone("Z2", ZoneKind.NO_VENDING, ((0, 0), (10, 0), (10, 10)), 10.5)
CAM1 = Camera("CAM-1", "中山路口", 114.3455, 34.807, 90.0, "rtsp://cam-1/stream", (WALK, STALLS))
CAM2 = Camera("CAM-2", "鼓楼广场", 114.35, 34.79, 0.0, "/data/cam-2")


def text(key: str, *, digest: str = "d1", at: datetime = T0, **overrides: Any) -> SmsMessage:
    fields: dict[str, Any] = {
        "id": None, "dedup_key": key, "template": "parking_notice", "phone_enc": "enc", "phone_digest": digest,
        "phone_masked": "138****0001", "body": "【绣花城管】请驶离", "state": SmsState.QUEUED, "attempts": 0,
        "next_attempt_at": at, "created_at": at,
    }  # fmt: skip
    fields.update(overrides)
    return SmsMessage(**fields)


def notice(key: str, *, camera: str = "CAM-1", zone: str = "Z1", at: datetime = T0, **overrides: Any) -> ParkingNotice:
    fields: dict[str, Any] = {
        "id": None, "event_key": key, "camera_code": camera, "zone_code": zone, "state": NoticeState.CAPTURED,
        "plate_read": "豫B12345", "plate_confidence": 0.93, "plate_color": "blue", "box": (10, 20, 110, 220),
        "first_capture": "a" * 64, "plate_crop": "b" * 64, "captured_at": at,
    }  # fmt: skip
    fields.update(overrides)
    return ParkingNotice(**fields)


def cameras(uow: Any) -> None:
    with uow:
        uow.video.upsert_cameras([CAM2, CAM1])
        uow.commit()


def add_texts(uow: Any, *messages: SmsMessage) -> list[int]:
    with uow:
        ids = [uow.video.add_sms(m) for m in messages]
        uow.commit()
    return ids


def add_notices(uow: Any, *notices: ParkingNotice) -> list[int]:
    with uow:
        ids = [uow.video.add_notice(n) for n in notices]
        uow.commit()
    return ids


# ----- cameras and vehicles --------------------------------------------------------------------------
def test_cameras_round_trip_with_their_zones_and_are_listed_by_code(uow: Any) -> None:
    cameras(uow)
    with uow:
        assert uow.video.cameras() == [CAM1, CAM2]
        got = uow.video.camera("CAM-1")
        assert got == CAM1 and got.zones[0].kind is ZoneKind.NO_PARKING and got.zones[1].dwell_minutes == 10.5
        assert got.zones[1].polygon == ((0, 0), (10, 0), (10, 10))
        assert uow.video.camera("CAM-3") is None and uow.video.camera("") is None


def test_a_camera_registered_again_is_replaced_by_code(uow: Any) -> None:
    cameras(uow)
    moved = replace(CAM1, name="中山路口（新）", heading_deg=180.0, zones=(STALLS,))
    with uow:
        uow.video.upsert_cameras([moved])
        uow.video.upsert_cameras([])
        uow.commit()
    with uow:
        assert uow.video.cameras() == [moved, CAM2]
        got = uow.video.camera("CAM-1")
        assert got is not None and [z.code for z in got.zones] == ["Z2"]


def test_vehicles_are_kept_by_plate_and_updated_in_place(uow: Any) -> None:
    owner = Vehicle("豫B12345", "张三", "enc-1", "digest-1", "138****0001")
    other = Vehicle("豫BD12345", "李四", "enc-2", "digest-2", "138****0002")
    with uow:
        uow.video.upsert_vehicles([owner, other], T0)
        uow.video.upsert_vehicles([], T0)
        uow.commit()
    sold = Vehicle("豫B12345", "王五", "enc-3", "digest-3", "139****0003")
    with uow:
        uow.video.upsert_vehicles([sold], T0 + timedelta(days=1))
        uow.commit()
    with uow:
        assert uow.video.vehicle("豫B12345") == sold
        assert uow.video.vehicle("豫BD12345") == other
        assert uow.video.vehicle("豫B00000") is None
        assert uow.video.count_vehicles() == 2


# ----- the SMS outbox --------------------------------------------------------------------------------
def test_a_text_gets_an_id_and_is_found_by_id_and_by_key(uow: Any) -> None:
    first, second = text("e1"), text("e2", digest="d2")
    ids = add_texts(uow, first, second)
    assert ids[1] > ids[0] and (first.id, second.id) == tuple(ids)
    with uow:
        assert uow.video.sms(ids[0]) == first and uow.video.sms_by_key("e2") == second
        assert uow.video.sms(ids[1] + 100) is None and uow.video.sms_by_key("nope") is None
        assert uow.video.sms_by_provider_id("fake-1") is None


def test_times_come_back_in_utc(uow: Any) -> None:
    """What the case log pins (sms_record_digest) hashes the times as text: they must read back the same."""
    add_texts(uow, text("e1", at=datetime(2026, 3, 3, 9, 0, 0, 123456, tzinfo=SH)))
    with uow:
        m = uow.video.sms_by_key("e1")
    assert m.created_at.isoformat() == "2026-03-03T01:00:00.123456+00:00"
    assert m.created_at.utcoffset() == timedelta(0) and m.next_attempt_at == m.created_at
    assert m.sent_at is None and m.receipt_at is None and m.provider_id is None and m.last_error is None


def test_a_second_text_with_the_same_key_is_refused(uow: Any) -> None:
    add_texts(uow, text("e1"))
    with uow, pytest.raises(IntegrityError):
        uow.video.add_sms(text("e1", digest="d2"))
    with uow:
        [kept] = uow.video.outbox()
    assert kept.dedup_key == "e1" and kept.phone_digest == "d1"


def test_what_was_not_committed_is_gone(uow: Any) -> None:
    cameras(uow)
    with uow:
        uow.video.add_sms(text("e1"))
        uow.video.add_notice(notice("n1"))
        uow.video.upsert_vehicles([Vehicle("豫B12345", "张三", "enc", "d", "138****0001")], T0)
    with uow:
        assert uow.video.outbox() == [] and uow.video.notices() == []
        assert uow.video.vehicle("豫B12345") is None


def test_a_saved_text_keeps_its_key_and_is_found_by_provider_id(uow: Any) -> None:
    [sms_id] = add_texts(uow, text("e1"))
    with uow:
        m = uow.video.sms(sms_id)
        m.state, m.attempts, m.provider_id, m.sent_at, m.next_attempt_at = (
            SmsState.SENT, 1, "gw-7", T0 + timedelta(minutes=1), None,
        )  # fmt: skip
        m.dedup_key = "changed"
        uow.video.save_sms(m)
        uow.video.save_sms(replace(m, id=sms_id + 100))  # no such text: nothing happens
        uow.commit()
    with uow:
        got = uow.video.sms_by_provider_id("gw-7")
        assert got is not None and got.id == sms_id and got.dedup_key == "e1" and got.state is SmsState.SENT
        assert got.sent_at == T0 + timedelta(minutes=1) and got.next_attempt_at is None and got.attempts == 1
        assert uow.video.sms_by_key("changed") is None and len(uow.video.outbox()) == 1


def test_a_text_read_is_a_copy_until_saved(uow: Any) -> None:
    [sms_id] = add_texts(uow, text("e1"))
    with uow:
        m = uow.video.sms(sms_id)
        m.state, m.attempts = SmsState.FAILED, 5
        assert uow.video.sms(sms_id).state is SmsState.QUEUED
        assert uow.video.sms_by_key("e1").attempts == 0


def test_due_texts_are_the_queued_ones_whose_time_has_come_oldest_first(uow: Any) -> None:
    add_texts(
        uow,
        text("later", at=T0 + timedelta(minutes=5)),
        text("first", at=T0 - timedelta(minutes=5)),
        text("same-time-a", at=T0),
        text("same-time-b", at=T0),
        text("future", at=T0 + timedelta(minutes=6)),
        text("sent", at=T0, state=SmsState.SENT, sent_at=T0),
        text("failed", at=T0, state=SmsState.FAILED),
        text("unscheduled", next_attempt_at=None),
    )
    now = T0 + timedelta(minutes=5)
    with uow:
        due = [m.dedup_key for m in uow.video.due_sms(now, 100)]
        assert due == ["first", "same-time-a", "same-time-b", "later"]  # by time, then by id; `now` included
        assert [m.dedup_key for m in uow.video.due_sms(now, 2)] == ["first", "same-time-a"]
        assert uow.video.due_sms(now, 0) == []
        assert uow.video.due_sms(T0 - timedelta(minutes=6), 100) == []


def test_the_outbox_lists_newest_first_by_state_and_limit(uow: Any) -> None:
    add_texts(
        uow,
        text("q1"),
        text("s1", state=SmsState.SENT),
        text("q2"),
        text("d1", state=SmsState.DELIVERED),
        text("q3"),
    )
    with uow:
        assert [m.dedup_key for m in uow.video.outbox()] == ["q3", "d1", "q2", "s1", "q1"]
        assert [m.dedup_key for m in uow.video.outbox(SmsState.QUEUED)] == ["q3", "q2", "q1"]
        assert [m.dedup_key for m in uow.video.outbox(SmsState.QUEUED, limit=2)] == ["q3", "q2"]
        assert [m.dedup_key for m in uow.video.outbox(limit=1)] == ["q3"]
        assert uow.video.outbox(SmsState.UNDELIVERED) == []


def test_sent_since_counts_texts_handed_to_the_gateway_per_number_or_all(uow: Any) -> None:
    add_texts(
        uow,
        text("a1", digest="A", state=SmsState.SENT, sent_at=T0 - timedelta(hours=2)),
        text("a2", digest="A", state=SmsState.DELIVERED, sent_at=T0),
        text("a3", digest="A", state=SmsState.SENT, sent_at=T0 + timedelta(seconds=30)),
        text("a4", digest="A"),  # queued, never sent
        text("b1", digest="B", state=SmsState.SENT, sent_at=T0 + timedelta(seconds=10)),
    )
    with uow:
        assert uow.video.sent_since("A", T0) == 2  # `since` itself counts, a receipt does not uncount it
        assert uow.video.sent_since("A", T0 - timedelta(days=1)) == 3
        assert uow.video.sent_since("B", T0) == 1
        assert uow.video.sent_since(None, T0) == 3
        assert uow.video.sent_since("C", T0 - timedelta(days=1)) == 0
        assert uow.video.sent_since(None, T0 + timedelta(minutes=1)) == 0


# ----- parking notices -------------------------------------------------------------------------------
def test_a_notice_gets_an_id_and_is_found_by_id_and_by_event_key(uow: Any) -> None:
    cameras(uow)
    first, second = notice("CAM-1:Z1:1"), notice("CAM-1:Z1:2")
    ids = add_notices(uow, first, second)
    assert (first.id, second.id) == tuple(ids) and ids[1] > ids[0]
    with uow:
        got = uow.video.notice(ids[0])
        assert got == first and got.box == (10, 20, 110, 220) and got.state is NoticeState.CAPTURED
        assert got.captured_at.utcoffset() == timedelta(0) and got.captured_at == T0
        assert uow.video.notice_by_key("CAM-1:Z1:2") == second
        assert uow.video.notice(ids[1] + 100) is None and uow.video.notice_by_key("nope") is None


def test_a_second_notice_for_the_same_event_is_refused(uow: Any) -> None:
    cameras(uow)
    add_notices(uow, notice("e1"))
    with uow, pytest.raises(IntegrityError):
        uow.video.add_notice(notice("e1", plate_read="豫B99999"))
    with uow:
        [kept] = uow.video.notices()
    assert kept.plate_read == "豫B12345"


@pytest.mark.parametrize("overrides", [{"camera": "CAM-9"}, {"sms_id": 999}], ids=["unknown camera", "unknown text"])
def test_a_notice_must_name_a_registered_camera_and_a_stored_text(uow: Any, overrides: dict[str, Any]) -> None:
    cameras(uow)
    with uow, pytest.raises(IntegrityError):
        uow.video.add_notice(notice("e1", **overrides))
    with uow:
        assert uow.video.notices() == []


def test_a_saved_notice_keeps_its_event_key(uow: Any) -> None:
    cameras(uow)
    [sms_id] = add_texts(uow, text("parking-notice:e1"))
    [notice_id] = add_notices(uow, notice("e1"))
    recheck = T0 + timedelta(minutes=15)
    with uow:
        n = uow.video.notice(notice_id)
        n.state, n.plate, n.sms_id, n.recheck_at, n.event_key = NoticeState.NOTIFIED, "豫B12345", sms_id, recheck, "x"
        uow.video.save_notice(n)
        uow.video.save_notice(replace(n, id=notice_id + 100))  # no such notice: nothing happens
        uow.commit()
    with uow:
        got = uow.video.notice(notice_id)
        assert got is not None and got.event_key == "e1" and got.state is NoticeState.NOTIFIED
        assert got.sms_id == sms_id and got.recheck_at == recheck and got.plate == "豫B12345"
        assert uow.video.notice_by_key("x") is None and len(uow.video.notices()) == 1
        assert uow.video.count_notices() == {"notified": 1}


def test_a_saved_notice_must_still_name_a_stored_text(uow: Any) -> None:
    cameras(uow)
    [notice_id] = add_notices(uow, notice("e1"))
    with uow, pytest.raises(IntegrityError):
        uow.video.save_notice(replace(notice("e1"), id=notice_id, sms_id=999))
    with uow:
        assert uow.video.notice(notice_id).sms_id is None


def test_a_notice_read_is_a_copy_until_saved(uow: Any) -> None:
    cameras(uow)
    [notice_id] = add_notices(uow, notice("e1"))
    with uow:
        n = uow.video.notice(notice_id)
        n.state = NoticeState.REVIEW
        assert uow.video.notice(notice_id).state is NoticeState.CAPTURED
        assert uow.video.notices(NoticeState.REVIEW) == []


def test_notices_are_listed_by_id_by_state_and_camera(uow: Any) -> None:
    cameras(uow)
    add_notices(
        uow,
        notice("a", state=NoticeState.REVIEW),
        notice("b", camera="CAM-2"),
        notice("c", state=NoticeState.REVIEW, camera="CAM-2"),
        notice("d", state=NoticeState.RESOLVED),
    )
    with uow:
        assert [n.event_key for n in uow.video.notices()] == ["a", "b", "c", "d"]
        assert [n.event_key for n in uow.video.notices(NoticeState.REVIEW)] == ["a", "c"]
        assert [n.event_key for n in uow.video.notices(camera_code="CAM-2")] == ["b", "c"]
        assert [n.event_key for n in uow.video.notices(NoticeState.REVIEW, "CAM-1")] == ["a"]
        assert uow.video.notices(NoticeState.DISMISSED) == [] and uow.video.notices(camera_code="CAM-9") == []
        assert uow.video.count_notices() == {"review": 2, "captured": 1, "resolved": 1}


def test_recent_notices_are_those_of_the_camera_and_zone_captured_since(uow: Any) -> None:
    cameras(uow)
    add_notices(
        uow,
        notice("old", at=T0 - timedelta(hours=5)),
        notice("edge", at=T0 - timedelta(hours=4)),
        notice("new", at=T0, state=NoticeState.RESOLVED),
        notice("other-zone", zone="Z2", at=T0),
        notice("other-camera", camera="CAM-2", at=T0),
    )
    with uow:
        recent = uow.video.recent_notices("CAM-1", "Z1", T0 - timedelta(hours=4))
        assert [n.event_key for n in recent] == ["edge", "new"]
        assert uow.video.recent_notices("CAM-1", "Z1", T0 + timedelta(seconds=1)) == []
        assert uow.video.recent_notices("CAM-9", "Z1", T0 - timedelta(days=1)) == []


def test_due_rechecks_are_the_notified_ones_of_the_camera_whose_time_has_come(uow: Any) -> None:
    cameras(uow)
    notified = NoticeState.NOTIFIED
    add_notices(
        uow,
        notice("late", state=notified, recheck_at=T0 + timedelta(minutes=10)),
        notice("early", state=notified, recheck_at=T0 - timedelta(minutes=10)),
        notice("same-a", state=notified, recheck_at=T0),
        notice("same-b", state=notified, recheck_at=T0),
        notice("not-yet", state=notified, recheck_at=T0 + timedelta(minutes=11)),
        notice("closed", state=NoticeState.CASE_OPENED, recheck_at=T0),
        notice("in-review", state=NoticeState.REVIEW),
        notice("other-camera", camera="CAM-2", state=notified, recheck_at=T0),
    )
    now = T0 + timedelta(minutes=10)
    with uow:
        due = [n.event_key for n in uow.video.due_rechecks("CAM-1", now)]
        assert due == ["early", "same-a", "same-b", "late"]
        assert [n.event_key for n in uow.video.due_rechecks("CAM-2", now)] == ["other-camera"]
        assert uow.video.due_rechecks("CAM-1", T0 - timedelta(minutes=11)) == []
        assert uow.video.due_rechecks("CAM-9", now) == []


def test_a_naive_time_is_refused(uow: Any) -> None:
    """Times are stored in UTC: one without a zone is a programming error, not a local time."""
    with uow, pytest.raises((ValueError, StatementError), match="naive datetime"):
        uow.video.add_sms(text("e1", at=datetime(2026, 3, 3, 9, 0)))
    with uow:
        assert uow.video.outbox() == []
