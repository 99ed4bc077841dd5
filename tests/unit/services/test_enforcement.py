"""The parking notice flow and street-vending cases on the in-memory fakes: capture, review, text, recheck,
and the cases raised through the message bus; then the camera pipeline over a stub vision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.unit.services.conftest import WATER
from tests.unit.services.video_city import (
    CAMERA,
    CIPHER,
    MARKET,
    NOWHERE,
    OTHER_OWNED,
    OWNED,
    OWNER_PHONE,
    SIDEWALK,
    UNOWNED,
    VideoCity,
    jpeg,
    video_city,
)
from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from xiuhua.org.domain.model import ClassKind
from xiuhua.video.adapters.sms.fake import FakeSmsProvider
from xiuhua.video.domain.enforcement import NoticeState, ParkingNotice, SmsMessage, SmsState
from xiuhua.video.domain.model import Box, Zone
from xiuhua.video.services.analysis import run_camera
from xiuhua.video.services.enforcement import (
    ParkingCapture,
    PlateEvidence,
    ReviewNotice,
    grace_over,
    open_parking_notice,
    recheck_notice,
    report_vending,
    review_notice,
    sms_record_digest,
)
from xiuhua.video.services.sms import deliver_sms

BOX = (100, 100, 300, 300)


@pytest.fixture
def city(policy: CasePolicy, clock: FakeClock) -> VideoCity:
    return video_city(policy, clock)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def capture(
    key: str = "CAM-1:Z1:e1",
    plate: str = OWNED,
    confidence: float = 0.93,
    valid: bool = True,
    zone: Zone = SIDEWALK,
) -> ParkingCapture:
    evidence = PlateEvidence(plate, confidence, "blue", valid)
    return ParkingCapture(CAMERA, zone, key, BOX, jpeg(f"frame {key}"), jpeg(f"crop {key}"), evidence)


def seen(city: VideoCity, cap: ParkingCapture | None = None) -> ParkingNotice:
    return open_parking_notice(cap or capture(), city.uow, city.clock, city.deps)


def outbox(city: VideoCity) -> list[SmsMessage]:
    with city.uow:
        return city.uow.video.outbox()


def stored(city: VideoCity, notice_id: int | None) -> ParkingNotice:
    with city.uow:
        n = city.uow.video.notice(notice_id or 0)
    assert n is not None
    return n


def send_due(city: VideoCity, provider: FakeSmsProvider | None = None) -> FakeSmsProvider:
    provider = provider or FakeSmsProvider()
    deliver_sms(city.uow, city.clock, provider, CIPHER)
    return provider


# ----- capture ---------------------------------------------------------------------------------------
def test_a_parked_vehicle_seen_gets_a_notice_and_a_text_queued(city: VideoCity) -> None:
    cap = capture()
    notice = seen(city, cap)
    assert city.uow.committed and city.uow.commits == 1
    assert notice.state is NoticeState.NOTIFIED and notice.plate == OWNED and notice.case_no is None
    assert notice.recheck_at == city.clock.now() + timedelta(minutes=15) and notice.captured_at == city.clock.now()
    assert stored(city, notice.id) == notice
    assert (notice.first_capture, notice.plate_crop) == (sha(cap.frame_jpeg), sha(cap.crop_jpeg))
    assert set(city.store.files) == {notice.first_capture, notice.plate_crop}
    [text] = outbox(city)
    assert text.id == notice.sms_id and text.state is SmsState.QUEUED and text.attempts == 0
    assert text.dedup_key == "parking-notice:CAM-1:Z1:e1" and text.template == "parking_notice"
    assert text.next_attempt_at == city.clock.now()
    assert text.phone_masked == "138****0001" and CIPHER.decrypt(text.phone_enc) == OWNER_PHONE
    assert text.phone_digest == CIPHER.digest(OWNER_PHONE) and OWNER_PHONE not in text.body
    assert all(part in text.body for part in (OWNED, "03-03 09:00", "中山路 1 号", "15分钟"))
    assert city.bus.commands == [] and city.uow.cases.rows == {}


def test_the_same_event_twice_does_not_text_twice(city: VideoCity) -> None:
    first = seen(city)
    city.clock.advance(minutes=1)
    again = seen(city)
    assert again == first and city.uow.commits == 1  # the second capture wrote nothing
    assert len(outbox(city)) == 1
    with city.uow:
        assert len(city.uow.video.notices()) == 1
    provider = send_due(city)
    send_due(city)
    assert [s.phone for s in provider.sent] == [OWNER_PHONE]


def test_two_events_make_two_notices_each_with_its_own_text(city: VideoCity) -> None:
    a = seen(city, capture("CAM-1:Z1:a"))
    b = seen(city, capture("CAM-1:Z1:b", plate=OTHER_OWNED))
    assert a.id != b.id and a.sms_id != b.sms_id
    provider = send_due(city)
    assert sorted(s.phone for s in provider.sent) == [OWNER_PHONE, "13900000002"]
    assert {s.dedup_key for s in provider.sent} == {"parking-notice:CAM-1:Z1:a", "parking-notice:CAM-1:Z1:b"}


@pytest.mark.parametrize(("confidence", "valid"), [(0.4, True), (0.5999, True), (0.95, False), (0.0, False)], ids=str)
def test_an_unsure_plate_read_is_held_for_review_and_never_texted(
    city: VideoCity, confidence: float, valid: bool
) -> None:
    notice = seen(city, capture(plate="豫B1234", confidence=confidence, valid=valid))
    assert notice.state is NoticeState.REVIEW and notice.plate is None and notice.sms_id is None
    assert notice.recheck_at is None and stored(city, notice.id).state is NoticeState.REVIEW
    assert outbox(city) == [] and city.bus.commands == []
    city.clock.advance(hours=1)
    assert send_due(city).sent == []
    with city.uow:
        assert city.uow.video.due_rechecks(CAMERA.code, city.clock.now()) == []


def test_a_read_at_the_threshold_is_sure_enough(city: VideoCity) -> None:
    assert seen(city, capture(confidence=0.6)).state is NoticeState.NOTIFIED


def test_a_vehicle_with_no_owner_on_record_raises_a_case_at_once(city: VideoCity) -> None:
    notice = seen(city, capture(plate=UNOWNED))
    assert notice.state is NoticeState.CASE_OPENED and notice.sms_id is None and notice.case_no
    assert outbox(city) == []
    case = city.uow.cases.get(notice.case_no)
    assert case is not None and case.class_code == "09009" and "车辆登记库无此车主" in case.description
    assert stored(city, notice.id).case_no == notice.case_no and notice.closed_at == city.clock.now()
    assert [type(c) for c in city.bus.commands] == [ReportCase] + [ActOnCase] * 4


def test_a_zone_without_its_place_cannot_raise_a_case(city: VideoCity) -> None:
    with pytest.raises(InvalidInputError) as err:
        seen(city, capture(plate=UNOWNED, zone=NOWHERE, key="CAM-1:Z3:e1"))
    assert err.value.code == "zone.no_place" and city.bus.commands == [] and city.uow.cases.rows == {}


# ----- review ----------------------------------------------------------------------------------------
def test_a_reviewer_confirms_a_corrected_plate_and_the_owner_is_told(city: VideoCity) -> None:
    notice = seen(city, capture(plate="豫B1234", confidence=0.3))
    city.clock.advance(minutes=3)
    decided = review_notice(ReviewNotice(notice.id or 0, "acceptor1", OWNED), city.uow, city.clock, city.deps)
    assert decided.state is NoticeState.NOTIFIED and decided.plate == OWNED and decided.reviewed_by == "acceptor1"
    assert decided.plate_read == "豫B1234" and decided.recheck_at == city.clock.now() + timedelta(minutes=15)
    assert stored(city, notice.id) == decided
    [text] = outbox(city)
    assert text.id == decided.sms_id and OWNED in text.body
    with pytest.raises(ConflictError) as err:  # decided already
        review_notice(ReviewNotice(notice.id or 0, "acceptor2", None), city.uow, city.clock, city.deps)
    assert err.value.code == "notice.transition_not_allowed"
    assert stored(city, notice.id) == decided


def test_a_rejected_read_is_dismissed_and_nobody_is_texted(city: VideoCity) -> None:
    notice = seen(city, capture(plate="豫B1234", confidence=0.3))
    decided = review_notice(ReviewNotice(notice.id or 0, "acceptor1", None), city.uow, city.clock, city.deps)
    assert decided.state is NoticeState.DISMISSED and decided.closed_at == city.clock.now()
    assert stored(city, notice.id).state is NoticeState.DISMISSED
    assert outbox(city) == [] and city.bus.commands == []


def test_a_notified_notice_cannot_be_reviewed(city: VideoCity) -> None:
    notice = seen(city)
    with pytest.raises(ConflictError):
        review_notice(ReviewNotice(notice.id or 0, "acceptor1", OWNED), city.uow, city.clock, city.deps)
    assert stored(city, notice.id) == notice and len(outbox(city)) == 1


def test_a_reviewed_plate_must_be_a_plate(city: VideoCity) -> None:
    notice = seen(city, capture(plate="豫B1234", confidence=0.3))
    with pytest.raises(InvalidInputError):
        review_notice(ReviewNotice(notice.id or 0, "acceptor1", "ABC"), city.uow, city.clock, city.deps)
    assert stored(city, notice.id).state is NoticeState.REVIEW and outbox(city) == []


def test_unknown_notices_are_not_found(city: VideoCity) -> None:
    with pytest.raises(NotFoundError) as err:
        review_notice(ReviewNotice(42, "acceptor1", OWNED), city.uow, city.clock, city.deps)
    assert err.value.code == "notice.not_found"
    with pytest.raises(NotFoundError):
        recheck_notice(42, True, jpeg("again"), city.uow, city.clock, city.deps)


# ----- recheck ---------------------------------------------------------------------------------------
def test_a_vehicle_still_there_after_the_grace_period_raises_a_case_through_the_bus(city: VideoCity) -> None:
    notice = seen(city)
    send_due(city)
    city.clock.advance(minutes=15)
    done = recheck_notice(notice.id or 0, True, jpeg("second"), city.uow, city.clock, city.deps)
    assert done.state is NoticeState.CASE_OPENED and done.second_capture == sha(jpeg("second"))
    assert done.case_no and done.closed_at == city.clock.now() and stored(city, notice.id) == done
    report, *acts = city.bus.commands
    assert isinstance(report, ReportCase)
    assert report.actor == SYSTEM_ACTOR and report.source is Source.VIDEO and report.kind is ClassKind.MATTER
    assert report.class_code == "09009" and report.idempotency_key == f"parking-{notice.id}"
    assert report.reporter == "视频智能发现 CAM-1"
    assert [p.sha256 for p in report.photos] == [done.first_capture, done.plate_crop, done.second_capture]
    loc = report.location
    assert (loc.lon, loc.lat, loc.address) == (SIDEWALK.lon, SIDEWALK.lat, SIDEWALK.address)
    assert (loc.district_code, loc.street_code, loc.community_code) == ("410202", "410202001", "410202001009")
    assert [(a.action, a.actor.username) for a in acts if isinstance(a, ActOnCase)] == [
        (Action.SEND_VERIFY, "video_desk"), (Action.VERIFY, "video_desk"), (Action.FILE, "video_desk"),
        (Action.DISPATCH, "video_desk"),
    ]  # fmt: skip
    case = city.uow.cases.get(done.case_no)
    assert case is not None and case.state is State.DISPATCHED and case.department_code == WATER
    assert case.source is Source.VIDEO and case.class_code == "09009"
    with city.uow:
        text = city.uow.video.sms(notice.sms_id or 0)
    assert f"sha256:{sms_record_digest(text)}" in case.description
    assert "告知短信已于 09:00 发送（138****0001）" in case.description and OWNER_PHONE not in case.description
    log = city.uow.cases.log(done.case_no)
    assert log[0].attachments == (done.first_capture, done.plate_crop, done.second_capture)
    assert [e.action for e in log] == [Action.REPORT, Action.SEND_VERIFY, Action.VERIFY, Action.FILE, Action.DISPATCH]
    assert next(e.type for e in city.uow.outbox.events) == "case.reported"


def test_without_a_video_desk_the_case_waits_for_the_acceptors(policy: CasePolicy, clock: FakeClock) -> None:
    city = video_city(policy, clock, desk=None)
    notice = seen(city)
    clock.advance(minutes=20)
    done = recheck_notice(notice.id or 0, True, jpeg("second"), city.uow, clock, city.deps)
    assert [type(c) for c in city.bus.commands] == [ReportCase]
    case = city.uow.cases.get(done.case_no or "")
    assert case is not None and case.state is State.REPORTED
    assert "告知短信已排队（尚未发出）" in case.description  # the recheck was forced before the text went out


def test_a_vehicle_gone_at_recheck_closes_the_notice(city: VideoCity) -> None:
    notice = seen(city)
    send_due(city)
    city.clock.advance(minutes=16)
    done = recheck_notice(notice.id or 0, False, jpeg("empty"), city.uow, city.clock, city.deps)
    assert done.state is NoticeState.RESOLVED and done.closed_at == city.clock.now() and done.case_no is None
    assert stored(city, notice.id) == done and done.second_capture == sha(jpeg("empty"))
    assert city.bus.commands == [] and city.uow.cases.rows == {}
    with city.uow:
        assert city.uow.video.due_rechecks(CAMERA.code, city.clock.now()) == []


@pytest.mark.parametrize("still_there", [True, False])
def test_a_notice_is_rechecked_once(city: VideoCity, still_there: bool) -> None:
    notice = seen(city)
    city.clock.advance(minutes=15)
    first = recheck_notice(notice.id or 0, still_there, jpeg("second"), city.uow, city.clock, city.deps)
    commands = len(city.bus.commands)
    with pytest.raises(ConflictError) as err:
        recheck_notice(notice.id or 0, not still_there, jpeg("third"), city.uow, city.clock, city.deps)
    assert err.value.code == "notice.transition_not_allowed"
    assert stored(city, notice.id) == first and len(city.bus.commands) == commands


def test_a_notice_under_review_is_not_rechecked(city: VideoCity) -> None:
    notice = seen(city, capture(plate="豫B1234", confidence=0.3))
    with pytest.raises(ConflictError):
        recheck_notice(notice.id or 0, True, jpeg("second"), city.uow, city.clock, city.deps)
    assert stored(city, notice.id).state is NoticeState.REVIEW and city.bus.commands == []


SENT_AT = datetime.fromisoformat("2026-03-03T01:00:00+00:00")


def text_at(state: SmsState, sent_at: datetime | None) -> SmsMessage:
    return SmsMessage(
        1, "k", "parking_notice", "enc", "d", "138****0001", "b", state, 1, None, SENT_AT, sent_at=sent_at
    )


@pytest.mark.parametrize(
    ("sms", "minutes_after", "over"),
    [
        (None, 0, True),  # no text (no owner): nothing to wait for
        (text_at(SmsState.FAILED, None), 0, True),  # failed for good: it holds nothing back
        (text_at(SmsState.QUEUED, None), 600, False),  # held back: so is the recheck
        (text_at(SmsState.SENT, SENT_AT), 14.99, False),
        (text_at(SmsState.SENT, SENT_AT), 15, True),
        (text_at(SmsState.DELIVERED, SENT_AT), 30, True),
    ],
)
def test_the_grace_period_runs_from_the_text_going_out(
    sms: SmsMessage | None, minutes_after: float, over: bool
) -> None:
    notice = replace(
        ParkingNotice(None, "k", "CAM-1", "Z1", NoticeState.NOTIFIED, OWNED, 0.9, "blue", BOX, "a", "b", SENT_AT),
        recheck_at=SENT_AT + timedelta(minutes=15),
    )
    assert grace_over(notice, sms, SENT_AT + timedelta(minutes=minutes_after), 15) is over


# ----- street vending --------------------------------------------------------------------------------
def test_street_vending_raises_a_case_at_once_and_once_per_event(city: VideoCity) -> None:
    frames = [jpeg("stall appears"), jpeg("stall stays")]
    case_no = report_vending(CAMERA, MARKET, "CAM-1:Z2:t7", frames, city.uow, city.clock, city.deps)
    case = city.uow.cases.get(case_no)
    assert case is not None and case.class_code == "09006" and case.state is State.DISPATCHED
    assert "马道街" in case.description and "10 分钟" in case.description
    assert city.uow.cases.log(case_no)[0].attachments == tuple(sha(f) for f in frames)
    again = report_vending(CAMERA, MARKET, "CAM-1:Z2:t7", frames, city.uow, city.clock, city.deps)
    assert again == case_no and len(city.uow.cases.rows) == 1
    assert [type(c) for c in city.bus.commands] == [ReportCase] + [ActOnCase] * 4 + [ReportCase]


# ----- the camera pipeline on a stub vision ----------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    label: str
    box: Box
    score: float = 0.9


@dataclass(frozen=True)
class Read:
    text: str
    confidence: float = 0.95
    color: str = "blue"
    valid: bool = True


@dataclass(frozen=True)
class Frame:
    image: tuple[Box, ...]
    """The vehicles in view."""
    taken_at: datetime


class StubVision:
    def __init__(self, plate: str) -> None:
        self.plate = plate

    def detect(self, image: Any) -> list[Seen]:
        return [Seen("vehicle", box) for box in image]

    def read_plate(self, image: Any, box: Box) -> tuple[Read | None, bytes]:
        return Read(self.plate), jpeg(f"crop {box}")

    def encode(self, image: Any, box: Box | None = None) -> bytes:
        return jpeg(f"frame {image}")


def minutes(start: datetime, n: int, parked_until: int) -> list[Frame]:
    return [Frame((BOX,) if i < parked_until else (), start + timedelta(minutes=i)) for i in range(n)]


@pytest.mark.parametrize(("parked_until", "cases", "resolved"), [(40, 1, 0), (12, 0, 1)])
def test_a_camera_notices_texts_and_rechecks_on_its_frames(
    city: VideoCity, parked_until: int, cases: int, resolved: int
) -> None:
    """A car parks at 09:00; the dwell rule fires at 09:05, the text goes out then, the recheck is due at 09:20."""
    provider = FakeSmsProvider()

    def after(clock: Any) -> object:
        return deliver_sms(city.uow, clock, provider, CIPHER)

    frames = minutes(city.clock.now(), 25, parked_until)
    summary = run_camera(CAMERA.code, frames, StubVision(OWNED), city.uow, city.deps, after_frame=after)
    assert summary.errors == [] and summary.frames == 25 and len(summary.notices) == 1
    assert (len(summary.cases), len(summary.resolved)) == (cases, resolved)
    notice = stored(city, summary.notices[0])
    assert notice.captured_at == frames[5].taken_at and notice.recheck_at == frames[20].taken_at
    assert notice.closed_at == frames[20].taken_at
    assert [s.phone for s in provider.sent] == [OWNER_PHONE]
    assert notice.state is (NoticeState.CASE_OPENED if cases else NoticeState.RESOLVED)
    assert (city.uow.cases.get(notice.case_no or "") is not None) is bool(cases)
    run_camera(CAMERA.code, frames, StubVision(OWNED), city.uow, city.deps, after_frame=after)  # replayed
    with city.uow:
        assert [n.id for n in city.uow.video.notices()] == summary.notices
    assert len(provider.sent) == 1 and len(city.uow.cases.rows) == cases


def test_another_car_at_the_spot_at_recheck_is_not_the_one_told(city: VideoCity) -> None:
    """The plate read again at the recheck differs: the car told has left."""

    vision = StubVision(OWNED)

    def after(clock: Any) -> object:
        if clock.now() >= city.clock.now() + timedelta(minutes=10):
            vision.plate = OTHER_OWNED  # another car took the spot
        return deliver_sms(city.uow, clock, FakeSmsProvider(), CIPHER)

    frames = minutes(city.clock.now(), 21, 21)
    summary = run_camera(CAMERA.code, frames, vision, city.uow, city.deps, after_frame=after)
    assert len(summary.notices) == 1 and summary.resolved == summary.notices and summary.cases == []


def test_an_unknown_camera_is_not_found(city: VideoCity) -> None:
    with pytest.raises(NotFoundError) as err:
        run_camera("CAM-9", [], StubVision(OWNED), city.uow, city.deps)
    assert err.value.code == "camera.not_found"
