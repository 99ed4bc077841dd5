"""The enforcement flow end to end on the recorded demo frames, through the real detectors and plate reader,
on SQLite and PostgreSQL: capture -> plate -> owner -> SMS -> recheck -> case or resolved; vending -> case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xiuhua.bootstrap import messagebus
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.cases.services.audit import verify_log
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.ports import Clock
from xiuhua.org.adapters import holidays
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.platform.tabular import read_table
from xiuhua.unit_of_work import SqlUnitOfWork
from xiuhua.video.adapters.crypto import PhoneCipher
from xiuhua.video.adapters.sms.fake import FakeOptions, FakeSmsProvider
from xiuhua.video.adapters.vision.frames import frames
from xiuhua.video.adapters.vision.pipeline import load_camera_file, packaged_video, vision_for
from xiuhua.video.domain.enforcement import NoticeState, SmsState
from xiuhua.video.services.analysis import register_cameras, run_camera
from xiuhua.video.services.enforcement import Deps, EnforcementPolicy, ReviewNotice, review_notice, sms_record_digest
from xiuhua.video.services.sms import deliver_sms
from xiuhua.video.services.vehicles import import_vehicles

SH = ZoneInfo("Asia/Shanghai")
DESK = Actor("video_desk", frozenset({Role.SYSTEM, Role.ACCEPTOR, Role.SUPERVISOR, Role.SHIFT_LEADER, Role.DISPATCHER}))
KEY = "test-phone-key-0123456789abcdef"


@dataclass
class Setup:
    uow: SqlUnitOfWork
    deps: Deps
    store: FileEvidenceStore
    definitions: dict[str, dict[str, object]]


@pytest.fixture
def setup(uow: SqlUnitOfWork, tmp_path: Path) -> Setup:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    definitions = load_camera_file(packaged_video() / "cameras.json")
    register_cameras(definitions, uow)
    cipher = PhoneCipher(KEY)
    clock = FakeClock(datetime(2026, 3, 3, 8, 0, tzinfo=SH))
    import_vehicles(read_table(packaged_video() / "demo_vehicles.csv"), uow, clock, cipher)
    store = FileEvidenceStore(tmp_path / "evidence")
    handle = messagebus(uow, clock, load_policy(uow, holidays.statutory_days)).handle
    deps = Deps(store, cipher, handle, EnforcementPolicy(15, DESK))
    return Setup(uow, deps, store, {str(d["code"]): d for d in definitions})


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-03T{hhmm}").replace(tzinfo=SH)


def run(setup: Setup, code: str, provider: FakeSmsProvider | None = None):  # type: ignore[no-untyped-def]
    """Run the camera's recorded frames; due SMS go out after each frame, on the frames' clock."""
    definition = setup.definitions[code]
    sender = provider or FakeSmsProvider()

    def send_due(clock: Clock) -> object:
        return deliver_sms(setup.uow, clock, sender, setup.deps.cipher)

    source = frames(str(definition["source"]))
    vision = vision_for(definition, "cpu")
    return run_camera(code, source, vision, setup.uow, setup.deps, after_frame=send_due)


def test_parking_notice_then_case_or_resolved(setup: Setup) -> None:
    summary = run(setup, "KF-CAM-001")
    assert summary.errors == []
    uow = setup.uow
    with uow:
        notices = {n.plate: n for n in uow.video.notices(camera_code="KF-CAM-001")}
        outbox = uow.video.outbox()
    # the car driving through in one frame made nothing; the two that stayed past 5 minutes got a notice each
    assert set(notices) == {"豫B6F28K", "豫BD12345"}
    stayed, left = notices["豫B6F28K"], notices["豫BD12345"]
    assert stayed.state is NoticeState.CASE_OPENED and stayed.case_no in summary.cases
    assert left.state is NoticeState.RESOLVED and left.id in summary.resolved and left.case_no is None
    assert stayed.second_capture and stayed.second_capture != stayed.first_capture
    # one text per notice, sent at capture time (09:06 and 09:14), numbers masked, body templated
    assert sorted(m.phone_masked for m in outbox) == ["138****0001", "138****0002"]
    assert all(m.state is SmsState.SENT and "豫B" in m.body for m in outbox)
    assert sorted(m.sent_at for m in outbox if m.sent_at) == [at("09:06"), at("09:14")]
    # the case: 机动车乱停放 from video, both captures and the plate crop hashed into its log, the SMS record
    # pinned by its digest, verified, filed and dispatched to the traffic police by the video desk
    with uow:
        case = uow.cases.get(stayed.case_no or "")
        log = uow.cases.log(stayed.case_no or "")
        sms = uow.video.sms(stayed.sms_id or 0)
    assert case is not None and case.class_code == "09009" and case.source is Source.VIDEO
    assert case.state is State.DISPATCHED and case.department_code == "114102023YLJBPXD6C"
    assert log[0].attachments == (stayed.first_capture, stayed.plate_crop, stayed.second_capture)
    assert [e.action for e in log] == [Action.REPORT, Action.SEND_VERIFY, Action.VERIFY, Action.FILE, Action.DISPATCH]
    assert f"sha256:{sms_record_digest(sms)}" in case.description and "告知短信已于 09:06 发送" in case.description
    assert "13800000001" not in case.description and "138****0001" in case.description
    for sha in log[0].attachments:
        assert setup.store.get(sha)[:3] == b"\xff\xd8\xff"
    assert verify_log(uow).broken == []


def test_rerunning_the_same_frames_changes_nothing(setup: Setup) -> None:
    first = run(setup, "KF-CAM-001")
    again = run(setup, "KF-CAM-001")
    with setup.uow:
        assert len(setup.uow.video.notices()) == 2
        assert len(setup.uow.video.outbox()) == 2
    assert set(again.cases) <= set(first.cases)


def test_street_vending_makes_a_case_at_once_and_a_passer_by_does_not(setup: Setup) -> None:
    summary = run(setup, "KF-CAM-002")
    assert summary.errors == [] and len(summary.cases) == 1
    with setup.uow:
        case = setup.uow.cases.get(summary.cases[0])
        log = setup.uow.cases.log(summary.cases[0])
    assert case is not None and case.class_code == "09006" and case.state is State.DISPATCHED
    assert case.department_code == "1141020292C3N93C5N"
    assert len(log[0].attachments) == 2  # the first sighting and the frame that fired the rule
    assert case.reported_at == datetime(2026, 3, 3, 9, 12, tzinfo=SH)  # 10 minutes after the stall appeared


def test_a_text_held_back_holds_the_recheck_back(setup: Setup) -> None:
    """The gateway fails three times: the first owner is told only at 09:22, so at 09:30 the grace is not over."""
    summary = run(setup, "KF-CAM-001", FakeSmsProvider(FakeOptions(fail_first=3)))
    with setup.uow:
        notices = {n.plate: n for n in setup.uow.video.notices()}
        texts = {m.id: m for m in setup.uow.video.outbox()}
    first, second = notices["豫B6F28K"], notices["豫BD12345"]
    assert summary.cases == []
    assert first.state is NoticeState.NOTIFIED and texts[first.sms_id].sent_at == at("09:22")
    assert texts[first.sms_id].attempts == 4
    assert second.state is NoticeState.RESOLVED and texts[second.sms_id].sent_at == at("09:14")


def test_sms_goes_out_and_unsure_reads_wait_for_a_person(setup: Setup) -> None:
    provider = FakeSmsProvider()
    run(setup, "KF-CAM-001", provider)
    clock = FakeClock(datetime(2026, 3, 3, 9, 40, tzinfo=SH))
    assert sorted(s.phone for s in provider.sent) == ["13800000001", "13800000002"]
    # a low-confidence capture goes to review; the reviewer's corrected plate notifies the owner
    from xiuhua.video.services.analysis import list_cameras
    from xiuhua.video.services.enforcement import ParkingCapture, PlateEvidence, open_parking_notice

    camera = next(c for c in list_cameras(setup.uow) if c.code == "KF-CAM-001")
    frame = (packaged_video() / "frames" / "KF-CAM-001" / "KF-CAM-001_20260303T010600.jpg").read_bytes()
    capture = ParkingCapture(
        camera, camera.zones[0], "unsure-1", (0, 0, 10, 10), frame, frame, PlateEvidence("豫B3M7Q", 0.3, "blue", False)
    )
    notice = open_parking_notice(capture, setup.uow, clock, setup.deps)
    assert notice.state is NoticeState.REVIEW and notice.sms_id is None
    decided = review_notice(ReviewNotice(notice.id or 0, "acceptor1", "豫B3M7Q1"), setup.uow, clock, setup.deps)
    assert decided.state is NoticeState.NOTIFIED and decided.plate == "豫B3M7Q1" and decided.sms_id is not None
