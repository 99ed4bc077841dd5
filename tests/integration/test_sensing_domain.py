"""The pure sensing domain: message decoding and checks, truck permits, rules, and the alarm episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassKind
from xiuhua.sensing.domain.model import (
    KINDS,
    Device,
    Effect,
    Phase,
    Reading,
    Rejection,
    Rule,
    RuleType,
    TruckPermit,
    check_reading,
    decode_message,
    distance_to_polyline_m,
    step_episode,
)
from xiuhua.sensing.domain.model import MessageRejectedError as Rejected

NOW = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "topic"),
    [
        (b"[1, 2]", ""),
        (b'{"ts": 1}', ""),
        (b'{"device": "A", "ts": true}', ""),
        (b'{"device": "A", "ts": "2026-03-03T01:00:00"}', ""),  # no zone
        (b'{"device": "A", "ts": 1, "values": [1]}', ""),
        (b'{"device": "A", "ts": 1, "alarm": "yes"}', ""),
        (b'{"device": "bad code!", "ts": 1}', ""),
    ],
)
def test_malformed_messages_are_rejected_as_malformed(payload: bytes, topic: str) -> None:
    with pytest.raises(Rejected) as info:
        decode_message(payload, topic)
    assert info.value.reason is Rejection.MALFORMED and info.value.code == "sensing.malformed"


def test_the_topic_names_the_device_and_epoch_seconds_are_accepted() -> None:
    raw = decode_message(b'{"ts": 1772499600, "values": {"pm10": 5}}', "xiuhua/sensors/dust/DUST-9")
    assert raw.device_code == "DUST-9" and raw.measured_at == NOW and not raw.alarm
    values = check_reading(KINDS["dust"], raw, NOW)
    assert values == (5.0, None)


def test_ranges_and_times_are_checked() -> None:
    raw = decode_message(b'{"device": "D", "ts": "2026-03-03T01:00:00Z", "values": {"pm10": -1}}')
    with pytest.raises(Rejected) as info:
        check_reading(KINDS["dust"], raw, NOW)
    assert info.value.reason is Rejection.OUT_OF_RANGE
    ok = decode_message(b'{"device": "D", "ts": "2026-03-03T01:00:00Z", "values": {"pm10": 1}}')
    with pytest.raises(Rejected) as info:
        check_reading(KINDS["dust"], ok, NOW + timedelta(hours=25))
    assert info.value.reason is Rejection.STALE
    with pytest.raises(Rejected) as info:
        check_reading(KINDS["dust"], ok, NOW - timedelta(minutes=6))
    assert info.value.reason is Rejection.FUTURE


def test_truck_permit_hours_wrap_over_midnight_and_route_corridor() -> None:
    permit = TruckPermit.parse('{"route": [[114.30, 34.80], [114.40, 34.80]], "buffer_m": 100, "hours": "22:00-06:00"}')
    assert permit is not None
    assert permit.allows_time(datetime(2026, 3, 3, 15, 30, tzinfo=UTC))  # 23:30 local
    assert permit.allows_time(datetime(2026, 3, 3, 21, 59, tzinfo=UTC))  # 05:59 local
    assert not permit.allows_time(datetime(2026, 3, 3, 22, 0, tzinfo=UTC))  # 06:00 local
    assert permit.off_route_m(114.35, 34.8005) == 0.0
    assert 1000 < permit.off_route_m(114.35, 34.81) < 1100  # about 1.1 km north, less the 100 m corridor
    assert TruckPermit.parse(permit.to_json()) == permit
    assert TruckPermit.parse("") is None
    for bad in ('{"route": [[1, 2]]}', '{"hours": "25:00-06:00"}', "not json", '{"buffer_m": -5}'):
        with pytest.raises(InvalidInputError) as info:
            TruckPermit.parse(bad)
        assert info.value.code == "sensing.bad_permit"
    assert distance_to_polyline_m(0.0, 0.0, ((0.0, 0.0), (0.0, 0.0))) == 0.0


def test_rules_are_validated() -> None:
    base = {"id": "r1", "kind": "dust", "class_kind": ClassKind.MATTER, "class_code": "08004", "label": "x"}
    with pytest.raises(InvalidInputError) as info:
        Rule(type=RuleType.THRESHOLD, field="pm10", op="!=", threshold=1, **base)  # type: ignore[arg-type]
    assert info.value.code == "sensing.bad_rule"
    with pytest.raises(InvalidInputError) as info:
        Rule(type=RuleType.THRESHOLD, field="nope", threshold=1, **base)  # type: ignore[arg-type]
    assert info.value.code == "sensing.unknown_field"
    with pytest.raises(InvalidInputError) as info:
        Rule(type=RuleType.GEOFENCE, **base)  # type: ignore[arg-type]
    assert info.value.code == "sensing.bad_rule"
    with pytest.raises(InvalidInputError) as info:
        Rule(type=RuleType.ALARM, **{**base, "kind": "toaster"})  # type: ignore[arg-type]
    assert info.value.code == "sensing.unknown_kind"
    with pytest.raises(InvalidInputError) as info:
        Device("D1", "dust", "d", 1, 2, "", "410202", "410202001", "410202001009", "X",
               permit=TruckPermit())  # fmt: skip
    assert info.value.code == "sensing.bad_permit"


def test_an_episode_raises_after_its_duration_damps_flaps_and_recovers() -> None:
    rule = Rule("r", "bin", RuleType.THRESHOLD, ClassKind.MATTER, "06042", "满溢", field="fill_pct", threshold=90,
                duration_minutes=10, clear_minutes=30)  # fmt: skip
    kind = KINDS["bin"]
    episode = None
    effects = []
    for minute, fill in ((0, 95), (5, 96), (10, 97), (15, 50), (20, 98), (25, 40), (50, 30), (55, 30)):
        reading = Reading(1, NOW + timedelta(minutes=minute), (float(fill),), False)
        breach = rule.breached(kind, reading, None)
        assert breach is not None
        episode, effect = step_episode(episode, rule, kind, reading, breach)
        effects.append(effect)
    assert effects == [
        Effect.UPDATE, Effect.UPDATE, Effect.RAISE, Effect.UPDATE, Effect.UPDATE, Effect.UPDATE, Effect.UPDATE,
        Effect.RECOVER,
    ]  # fmt: skip
    assert episode is not None and episode.phase is Phase.RECOVERED and episode.flaps == 1
    assert episode.peak == 98.0 and episode.recovered_at == NOW + timedelta(minutes=25)
    late = Reading(1, NOW + timedelta(minutes=1), (99.0,), False)
    assert step_episode(episode, rule, kind, late, True)[0] is not episode  # a recovered episode is not reused
