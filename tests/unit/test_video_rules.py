"""Zones, tracking and dwell rules, and the parking-notice transition table (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.video.domain.enforcement import (
    TRANSITIONS,
    NoticeEvent,
    NoticeState,
    NoticeTransitionError,
    ParkingNotice,
    mask_phone,
    needs_review,
    next_state,
)
from xiuhua.video.domain.model import Camera, DwellRules, Tracker, Zone, ZoneKind, iou

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
SIDEWALK = Zone("Z1", ZoneKind.NO_PARKING, ((0, 100), (400, 100), (400, 200), (0, 200)), dwell_minutes=5)
SQUARE = Zone("Z2", ZoneKind.NO_VENDING, ((500, 0), (800, 0), (800, 300), (500, 300)), dwell_minutes=10)
BAYS = Zone("Z3", ZoneKind.PARKING, ((0, 210), (400, 210), (400, 300), (0, 300)), dwell_minutes=0)
CAR = (50, 60, 250, 180)  # foot at (150, 180): inside the sidewalk zone


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def test_zone_contains_and_validates() -> None:
    assert SIDEWALK.contains((150, 180)) and not SIDEWALK.contains((150, 250))
    concave = Zone("C", ZoneKind.NO_VENDING, ((0, 0), (10, 0), (10, 10), (5, 5), (0, 10)), 1)
    assert concave.contains((2, 4)) and not concave.contains((5, 8))
    with pytest.raises(InvalidInputError) as info:
        Zone("bad", ZoneKind.NO_PARKING, ((0, 0), (1, 1)), 5)
    assert info.value.code == "zone.bad_polygon"
    with pytest.raises(InvalidInputError) as info:
        Zone("bad", ZoneKind.NO_PARKING, ((0, 0), (1, 1), (1, 0)), -1)
    assert info.value.code == "zone.bad_dwell"


def test_camera_checks_position_heading_and_zone_codes() -> None:
    for kwargs, code in [
        ({"lon": 200.0}, "camera.bad_position"),
        ({"heading_deg": 360.0}, "camera.bad_heading"),
        ({"zones": (SIDEWALK, SIDEWALK)}, "camera.duplicate_zone"),
    ]:
        args = {"lon": 114.3, "lat": 34.8, "heading_deg": 90.0, "zones": ()} | kwargs
        with pytest.raises(InvalidInputError) as info:
            Camera("C1", "cam", args["lon"], args["lat"], args["heading_deg"], "dir", args["zones"])  # type: ignore[arg-type]
        assert info.value.code == code


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_a_vehicle_standing_past_the_dwell_time_fires_once() -> None:
    tracker, rules = Tracker(), DwellRules((SIDEWALK, SQUARE, BAYS))
    fired = []
    for m in range(0, 9):
        jitter = m % 2  # detections wobble by a pixel; that is not moving
        tracks = tracker.update([("vehicle", (CAR[0] + jitter, CAR[1], CAR[2] + jitter, CAR[3]))], minutes(m))
        fired += [(m, v.zone.code) for v in rules.check(tracks, minutes(m))]
    assert fired == [(5, "Z1")]
    assert len(tracker.tracks) == 1


def test_a_passer_by_never_fires() -> None:
    tracker, rules = Tracker(), DwellRules((SIDEWALK,))
    fired = []
    for m in range(0, 12):
        x = 40 * m  # walks along the sidewalk, 40 px a minute: it keeps moving
        tracks = tracker.update([("vehicle", (x, 60, x + 200, 180))], minutes(m))
        fired += rules.check(tracks, minutes(m))
    assert fired == []


def test_moving_restarts_the_dwell_clock() -> None:
    tracker, rules = Tracker(max_gap=timedelta(minutes=10)), DwellRules((SIDEWALK,))
    tracker.update([("vehicle", CAR)], minutes(0))
    tracker.update([("vehicle", (120, 60, 320, 180))], minutes(4))  # shuffled forward 70 px: still moving
    tracks = tracker.update([("vehicle", (120, 60, 320, 180))], minutes(8))
    assert rules.check(tracks, minutes(8)) == []  # still for 4 minutes only
    tracks = tracker.update([("vehicle", (120, 60, 320, 180))], minutes(9))
    assert [v.since for v in rules.check(tracks, minutes(9))] == [minutes(4)]


def test_only_watched_labels_count_and_parking_bays_never_fire() -> None:
    tracker, rules = Tracker(), DwellRules((SIDEWALK, SQUARE, BAYS))
    stall = (550, 100, 700, 250)
    bay_car = (50, 160, 250, 280)
    for m in range(0, 15):
        tracks = tracker.update([("person", (60, 60, 90, 180)), ("object", stall), ("vehicle", bay_car)], minutes(m))
        fired = rules.check(tracks, minutes(m))
        assert [v.zone.code for v in fired] == (["Z2"] if m == 10 else [])
    occupied = rules.occupied(tracker.tracks)
    assert [t.label for t in occupied["Z2"]] == ["object"] and occupied["Z1"] == []


def test_a_track_lost_for_longer_than_the_gap_starts_afresh() -> None:
    tracker = Tracker(max_gap=timedelta(minutes=2))
    first = tracker.update([("vehicle", CAR)], minutes(0))[0]
    again = tracker.update([("vehicle", CAR)], minutes(3))[0]
    assert again.id != first.id and again.still_since == minutes(3)
    kept = tracker.update([("vehicle", CAR)], minutes(4))[0]
    assert kept.id == again.id and kept.hits == 2


def test_notice_transitions_follow_the_table() -> None:
    assert next_state(1, NoticeState.CAPTURED, NoticeEvent.READ_UNSURE) is NoticeState.REVIEW
    assert next_state(1, NoticeState.NOTIFIED, NoticeEvent.STILL_THERE) is NoticeState.CASE_OPENED
    assert next_state(1, NoticeState.NOTIFIED, NoticeEvent.MOVED) is NoticeState.RESOLVED
    with pytest.raises(NoticeTransitionError) as info:
        next_state(7, NoticeState.RESOLVED, NoticeEvent.STILL_THERE)
    assert info.value.code == "notice.transition_not_allowed" and info.value.details["notice_id"] == 7
    assert not any(s.final for s, _ in TRANSITIONS)  # nothing leaves a final state
    notice = ParkingNotice(1, "k", "C", "Z", NoticeState.CAPTURED, "豫B12345", 0.9, "blue", CAR, "a", "b", T0)
    notice.apply(NoticeEvent.READ_SURE)
    notice.apply(NoticeEvent.NOTIFIED)
    assert notice.state is NoticeState.NOTIFIED


def test_review_threshold_and_phone_masking() -> None:
    assert needs_review(False, 0.99) and needs_review(True, 0.59) and not needs_review(True, 0.6)
    assert mask_phone("13812345678") == "138****5678" and mask_phone("123") == "***"
