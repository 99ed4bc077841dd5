"""The sensing store's contract (sensing.ports.SensingStore): devices, readings, rules, alarm episodes, dead
letters, business feeds and shared bikes, as the sensing services rely on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.contract.test_cases import ACCEPTOR, TIMING, opened
from xiuhua.cases.domain.case import Params
from xiuhua.cases.domain.workflow import Action
from xiuhua.org.domain.model import ClassKind
from xiuhua.sensing.domain.model import Device, Episode, Phase, Reading, Rule, RuleType, TruckPermit

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
SH = ZoneInfo("Asia/Shanghai")
DEPT = "1241020210Q85UHF2K"


def device(code: str, kind: str = "bin", **overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "code": code, "kind": kind, "name": f"{code} 传感器", "lon": 114.35, "lat": 34.80, "address": "中山路",
        "district_code": "410202", "street_code": "410202001", "community_code": "410202001009",
        "department_code": DEPT,
    }  # fmt: skip
    fields.update(overrides)
    return Device(**fields)


TRUCK = device("TRUCK-1", "muck_truck", permit=TruckPermit(((114.30, 34.80), (114.40, 34.80)), 100.0, 22 * 60, 6 * 60))


def register(uow: Any, *devices: Device) -> dict[str, int]:
    """Store the devices; their ids by code."""
    with uow:
        uow.sensing.upsert_devices(list(devices), T0)
        uow.commit()
    with uow:
        found = uow.sensing.devices_by_code([d.code for d in devices])
    return {code: d.id for code, d in found.items()}


def rule(rule_id: str = "bin-full", **overrides: Any) -> Rule:
    fields: dict[str, Any] = {
        "id": rule_id, "kind": "bin", "type": RuleType.THRESHOLD, "class_kind": ClassKind.MATTER,
        "class_code": "06042", "label": "垃圾箱满溢", "field": "fill_pct", "op": ">", "threshold": 90.0,
    }  # fmt: skip
    fields.update(overrides)
    return Rule(**fields)


def episode(device_id: int, rule_id: str = "bin-full", at: datetime = T0, **overrides: Any) -> Episode:
    fields: dict[str, Any] = {
        "device_id": device_id, "rule_id": rule_id, "phase": Phase.PENDING, "started_at": at, "last_at": at,
        "breaches": 1, "trigger": [{"at": "2026-03-03T01:00:00Z", "fill_pct": 95.0}],
    }  # fmt: skip
    fields.update(overrides)
    return Episode(**fields)


# ----- devices ----------------------------------------------------------------------------------------
def test_devices_are_found_by_code_and_id_and_keep_their_id_when_updated(uow: Any) -> None:
    ids = register(uow, device("BIN-2"), device("BIN-1"), device("DUST-1", "dust"), TRUCK)
    assert set(ids) == {"BIN-1", "BIN-2", "DUST-1", "TRUCK-1"} and len(set(ids.values())) == 4
    with uow:
        s = uow.sensing
        found = s.devices_by_code(["BIN-1", "BIN-1", "NOPE-1", "TRUCK-1"])
        assert set(found) == {"BIN-1", "TRUCK-1"}
        assert found["BIN-1"] == device("BIN-1") and found["BIN-1"].last_reading_at is None
        assert found["TRUCK-1"].permit == TRUCK.permit
        assert s.devices_by_code([]) == {}
        by_id = s.device_by_id(ids["DUST-1"])
        assert by_id is not None and by_id.code == "DUST-1" and by_id.id == ids["DUST-1"]
        assert s.device_by_id(max(ids.values()) + 100) is None
        assert [d.code for d in s.devices()] == ["BIN-1", "BIN-2", "DUST-1", "TRUCK-1"]
        assert [d.code for d in s.devices("bin")] == ["BIN-1", "BIN-2"]
        assert [d.code for d in s.devices(limit=2)] == ["BIN-1", "BIN-2"]
        assert [d.code for d in s.devices("bin", 1)] == ["BIN-1"]
        assert s.devices("fume") == []
    with uow:  # an update (another name, deactivated) keeps the id; an id given by the caller is not taken
        uow.sensing.upsert_devices([replace(device("BIN-1", name="新名称", active=False), id=999)], T0)
        uow.sensing.upsert_devices([], T0)
        uow.commit()
    with uow:
        again = uow.sensing.devices_by_code(["BIN-1"])["BIN-1"]
        assert (again.id, again.name, again.active) == (ids["BIN-1"], "新名称", False)
        assert len(uow.sensing.devices()) == 4


def test_touch_only_moves_a_devices_newest_reading_forward(uow: Any) -> None:
    ids = register(uow, device("BIN-1"), device("BIN-2"))
    later = (T0 + timedelta(minutes=10)).astimezone(SH)  # any zone in, UTC out
    with uow:
        uow.sensing.touch_devices({ids["BIN-1"]: later, max(ids.values()) + 100: T0})
        uow.sensing.touch_devices({})
        uow.commit()
    with uow:
        uow.sensing.touch_devices({ids["BIN-1"]: T0, ids["BIN-2"]: T0})  # older for BIN-1: kept as it was
        uow.commit()
    with uow:
        found = uow.sensing.devices_by_code(["BIN-1", "BIN-2"])
        assert found["BIN-1"].last_reading_at == T0 + timedelta(minutes=10)
        assert found["BIN-1"].last_reading_at.utcoffset() == timedelta(0)
        assert found["BIN-2"].last_reading_at == T0
    with uow:  # a re-registered device keeps its newest reading
        uow.sensing.upsert_devices([device("BIN-1", name="改名")], T0)
        uow.commit()
    with uow:
        assert uow.sensing.device_by_id(ids["BIN-1"]).last_reading_at == T0 + timedelta(minutes=10)


# ----- readings ---------------------------------------------------------------------------------------
def test_readings_are_stored_once_and_read_newest_first(uow: Any) -> None:
    ids = register(uow, device("MH-1", "manhole"), device("BIN-1"))
    mh, bin_ = ids["MH-1"], ids["BIN-1"]
    with uow:
        uow.sensing.add_readings(
            [
                Reading(mh, T0, (2.0, 40.0), False),
                Reading(mh, T0 + timedelta(minutes=2), (35.0, None), True),
                Reading(mh, T0 + timedelta(minutes=1), (3.0,), False),
                Reading(bin_, T0, (95,), False),
            ]
        )
        uow.sensing.add_readings([Reading(mh, T0.astimezone(SH), (80.0, 1.0), True)])  # redelivered: kept as first
        uow.sensing.add_readings([])
        uow.commit()
    with uow:
        got = uow.sensing.readings(mh)
        assert [r.measured_at for r in got] == [T0 + timedelta(minutes=m) for m in (2, 1, 0)]
        assert got[2] == Reading(mh, T0, (2.0, 40.0, None), False)  # always the three value slots
        assert got[1].values == (3.0, None, None) and got[0].alarm is True
        assert got[2].measured_at.utcoffset() == timedelta(0)
        assert [r.values for r in uow.sensing.readings(mh, limit=1)] == [(35.0, None, None)]
        assert uow.sensing.readings(mh, limit=0) == []
        (bin_reading,) = uow.sensing.readings(bin_)
        assert bin_reading.values == (95.0, None, None) and isinstance(bin_reading.values[0], float)
        assert uow.sensing.readings(max(ids.values()) + 100) == []
        assert uow.sensing.count_readings() == 4


# ----- rules ------------------------------------------------------------------------------------------
def test_rules_are_seeded_without_overwriting_a_citys_edits(uow: Any) -> None:
    product = [rule("bin-full"), rule("a-alarm", kind="manhole", type=RuleType.ALARM, field=None, threshold=None)]
    with uow:
        uow.sensing.add_missing_rules(product, T0)
        uow.commit()
    with uow:
        assert uow.sensing.rules() == sorted(product, key=lambda r: r.id)
        uow.sensing.upsert_rules([rule("bin-full", threshold=80.0, enabled=False), rule("bin-low", op="<")], T0)
        uow.commit()
    with uow:
        uow.sensing.add_missing_rules([*product, rule("bin-new"), rule("bin-new", threshold=10.0)], T0)
        uow.sensing.add_missing_rules([], T0)
        uow.sensing.upsert_rules([], T0)
        uow.commit()
    with uow:
        rules = {r.id: r for r in uow.sensing.rules()}
        assert list(rules) == ["a-alarm", "bin-full", "bin-low", "bin-new"]
        assert (rules["bin-full"].threshold, rules["bin-full"].enabled) == (80.0, False)  # the city's edit stays
        assert rules["bin-low"].op == "<" and rules["bin-new"].threshold == 90.0
        assert rules["a-alarm"] == product[1]


# ----- alarm episodes ---------------------------------------------------------------------------------
def test_episodes_are_added_saved_listed_and_deleted(uow: Any) -> None:
    ids = register(uow, device("BIN-1"), device("BIN-2"))
    one, two = ids["BIN-1"], ids["BIN-2"]
    first, second, third = episode(one), episode(one, "bin-other"), episode(two, at=T0 + timedelta(minutes=5))
    with uow:
        new_ids = [uow.sensing.add_episode(e) for e in (first, second, third)]
        uow.commit()
    assert new_ids == [first.id, second.id, third.id] and len(set(new_ids)) == 3
    with uow:
        opened_ = uow.sensing.open_episodes([one, one, 9999])
        assert {e.id for e in opened_} == {first.id, second.id} and len(opened_) == 2
        stored = next(e for e in opened_ if e.id == first.id)
        assert stored == first and stored.trigger == [{"at": "2026-03-03T01:00:00Z", "fill_pct": 95.0}]
        assert uow.sensing.open_episodes([]) == []
        # saved: raised, then recovered (no longer open)
        stored.phase, stored.raised_at, stored.breaches, stored.peak = Phase.ACTIVE, T0.astimezone(SH), 3, 97
        stored.recent = [{"at": "x", "fill_pct": 97.0}]
        uow.sensing.save_episodes([stored])
        uow.sensing.save_episodes([])
        uow.commit()
    with uow:
        (again,) = [e for e in uow.sensing.episodes(one) if e.id == first.id]
        assert (again.phase, again.raised_at, again.breaches, again.peak) == (Phase.ACTIVE, T0, 3, 97.0)
        assert again.raised_at.utcoffset() == timedelta(0) and again.recent == [{"at": "x", "fill_pct": 97.0}]
        again.phase, again.recovered_at = Phase.RECOVERED, T0 + timedelta(hours=1)
        uow.sensing.save_episodes([again])
        uow.commit()
    with uow:
        assert first.id not in {e.id for e in uow.sensing.open_episodes([one, two])}
        assert [e.id for e in uow.sensing.episodes()] == [third.id, second.id, first.id]  # newest first
        assert [e.id for e in uow.sensing.episodes(one)] == [second.id, first.id]
        assert [e.id for e in uow.sensing.episodes(limit=1)] == [third.id]
        assert uow.sensing.episodes(9999) == []
        uow.sensing.delete_episodes([second.id, 9999])
        uow.sensing.delete_episodes([])
        uow.commit()
    with uow:
        assert [e.id for e in uow.sensing.episodes()] == [third.id, first.id]
        assert [e.id for e in uow.sensing.open_episodes([one, two])] == [third.id]


def test_raised_episodes_await_their_case_until_it_is_set(uow: Any) -> None:
    ids = register(uow, device("BIN-1"))
    pending, raised, later = episode(ids["BIN-1"]), episode(ids["BIN-1"], raised_at=T0), episode(ids["BIN-1"], "r2")
    later.raised_at = T0 + timedelta(minutes=3)
    with uow:
        for e in (pending, raised, later):
            uow.sensing.add_episode(e)
        uow.commit()
    with uow:
        assert [e.id for e in uow.sensing.episodes_awaiting_case()] == [raised.id, later.id]
        assert raised.id is not None
        uow.sensing.set_case(raised.id, "20260303000001", "a" * 64)
        uow.sensing.set_case(9999, "20260303000002", "b" * 64)  # no such alarm: nothing
        uow.commit()
    with uow:
        assert [e.id for e in uow.sensing.episodes_awaiting_case()] == [later.id]
        (stored,) = [e for e in uow.sensing.episodes() if e.id == raised.id]
        assert stored.case_no == "20260303000001"


def test_the_open_case_of_a_device_and_rule_is_its_latest_alarms_case_still_open(uow: Any) -> None:
    ids = register(uow, device("BIN-1"), device("BIN-2"))
    one = ids["BIN-1"]
    with uow:
        for no in ("20260303000001", "20260303000002"):
            uow.cases.add(opened(no))
        uow.commit()
    older, newer, unknown = episode(one), episode(one), episode(one)
    with uow:
        for e, no in ((older, "20260303000001"), (newer, "20260303000002"), (unknown, "20260303999999")):
            uow.sensing.add_episode(e)
            assert e.id is not None
            uow.sensing.set_case(e.id, no, "c" * 64)
        uow.commit()
    with uow:
        assert uow.sensing.open_case_of(one, "bin-full") == "20260303000002"  # a case number with no case: skipped
        assert uow.sensing.open_case_of(one, "other-rule") is None
        assert uow.sensing.open_case_of(ids["BIN-2"], "bin-full") is None
        case = uow.cases.get("20260303000002")
        case.apply(Action.VOID, ACCEPTOR, T0 + timedelta(hours=1), TIMING, Params(reason="重复上报"))
        uow.cases.save(case)
        uow.commit()
    with uow:  # the latest case is voided: the one before, still open, is rejoined
        assert uow.sensing.open_case_of(one, "bin-full") == "20260303000001"
        case = uow.cases.get("20260303000001")
        case.apply(Action.VOID, ACCEPTOR, T0 + timedelta(hours=1), TIMING, Params(reason="重复上报"))
        uow.cases.save(case)
        uow.commit()
    with uow:
        assert uow.sensing.open_case_of(one, "bin-full") is None


def test_uncommitted_sensing_writes_are_lost(uow: Any) -> None:
    ids = register(uow, device("BIN-1"))
    with uow:
        uow.sensing.add_readings([Reading(ids["BIN-1"], T0, (50.0,), False)])
        uow.sensing.add_episode(episode(ids["BIN-1"]))
        uow.sensing.upsert_devices([device("BIN-2")], T0)
    with uow:
        assert uow.sensing.readings(ids["BIN-1"]) == [] and uow.sensing.episodes() == []
        assert [d.code for d in uow.sensing.devices()] == ["BIN-1"]


# ----- dead letters -----------------------------------------------------------------------------------
def letter(reason: str, device_code: str | None = None, n: int = 0) -> dict[str, Any]:
    return {"received_at": (T0 + timedelta(seconds=n)).astimezone(SH), "topic": "xiuhua/sensors/x",
            "device_code": device_code, "reason": reason, "message": f"消息 {n}", "payload": "hex:fffe"}  # fmt: skip


def test_dead_letters_are_listed_newest_first_and_counted_by_reason(uow: Any) -> None:
    with uow:
        uow.sensing.add_dead_letters([letter("malformed", n=1), letter("stale", "BIN-1", 2)])
        uow.sensing.add_dead_letters([letter("malformed", "BIN-2", 3)])
        uow.sensing.add_dead_letters([])
        uow.commit()
    with uow:
        letters = uow.sensing.dead_letters()
        assert [x.message for x in letters] == ["消息 3", "消息 2", "消息 1"]
        newest = letters[0]
        assert (newest.reason, newest.device_code, newest.topic, newest.payload) == (
            "malformed", "BIN-2", "xiuhua/sensors/x", "hex:fffe",
        )  # fmt: skip
        assert newest.received_at == T0 + timedelta(seconds=3) and newest.received_at.utcoffset() == timedelta(0)
        assert letters[2].device_code is None
        assert [x.message for x in uow.sensing.dead_letters("malformed")] == ["消息 3", "消息 1"]
        assert [x.message for x in uow.sensing.dead_letters(limit=1)] == ["消息 3"]
        assert uow.sensing.dead_letters("future") == []
        assert uow.sensing.dead_letter_counts() == {"malformed": 2, "stale": 1}


def test_no_dead_letters_count_nothing(uow: Any) -> None:
    with uow:
        assert uow.sensing.dead_letters() == [] and uow.sensing.dead_letter_counts() == {}


# ----- business feeds ---------------------------------------------------------------------------------
def mapping(event_type: str, class_code: str, urgent: bool = False, kind: str = "matter") -> dict[str, Any]:
    return {"source": "water", "event_type": event_type, "class_kind": kind, "class_code": class_code,
            "urgent": urgent}  # fmt: skip


def test_feed_mappings_are_seeded_only_where_missing_and_replaced_on_edit(uow: Any) -> None:
    with uow:
        uow.sensing.upsert_feed_mappings([mapping("pipe_burst", "01025", True, "component")], only_missing=True)
        uow.sensing.upsert_feed_mappings([], only_missing=True)
        uow.sensing.upsert_feed_mappings([])
        uow.commit()
    with uow:
        uow.sensing.upsert_feed_mappings(
            [mapping("pipe_burst", "06010"), mapping("leak", "06012")], only_missing=True
        )  # the stored one is kept
        uow.commit()
    with uow:
        assert uow.sensing.feed_mappings() == {
            ("water", "pipe_burst"): (ClassKind.COMPONENT, "01025", True),
            ("water", "leak"): (ClassKind.MATTER, "06012", False),
        }
        uow.sensing.upsert_feed_mappings([mapping("pipe_burst", "06010")])
        uow.commit()
    with uow:
        assert uow.sensing.feed_mappings()[("water", "pipe_burst")] == (ClassKind.MATTER, "06010", False)


def test_a_feed_event_is_taken_once(uow: Any) -> None:
    with uow:
        uow.sensing.add_feed_event("water", "W-1", T0, "20260303000001")
        uow.sensing.add_feed_event("water", "W-1", T0 + timedelta(minutes=1), "20260303000009")  # resent: kept
        uow.sensing.add_feed_event("gas", "W-1", T0, "20260303000002")
        uow.commit()
    with uow:
        assert uow.sensing.feed_cases("water", ["W-1", "W-2"]) == {"W-1": "20260303000001"}
        assert uow.sensing.feed_cases("gas", ["W-1"]) == {"W-1": "20260303000002"}
        assert uow.sensing.feed_cases("heating", ["W-1"]) == {}
        assert uow.sensing.feed_cases("water", []) == {}


# ----- shared bikes -----------------------------------------------------------------------------------
def bike(bike_id: str, minutes: int, zone: str | None, operator: str = "hello", **more: Any) -> dict[str, Any]:
    return {"operator": operator, "bike_id": bike_id, "lon": 114.34, "lat": 34.80,
            "seen_at": T0 + timedelta(minutes=minutes), "zone_id": zone, "outside_since": None, "case_no": None,
            **more}  # fmt: skip


def test_bike_operators_are_registered_and_updated(uow: Any) -> None:
    with uow:
        uow.sensing.upsert_bike_operators(
            [{"code": "meituan", "name": "美团", "account": "op_m", "grace_minutes": 30},
             {"code": "hello", "name": "哈啰", "account": "op_h", "grace_minutes": 20}]
        )  # fmt: skip
        uow.sensing.upsert_bike_operators([])
        uow.commit()
    with uow:
        uow.sensing.upsert_bike_operators(
            [{"code": "hello", "name": "哈啰出行", "account": "op_h2", "grace_minutes": 45}]
        )
        uow.commit()
    with uow:
        operators = uow.sensing.bike_operators()
        assert list(operators) == ["hello", "meituan"]
        hello = operators["hello"]
        assert (hello.code, hello.name, hello.account, hello.grace_minutes) == ("hello", "哈啰出行", "op_h2", 45)
        assert operators["meituan"].grace_minutes == 30


def test_bike_states_are_kept_per_operator_and_counted_per_zone(uow: Any) -> None:
    zone = "41020202025000001"
    with uow:
        uow.sensing.put_bike_states([bike("B1", 0, zone), bike("B2", 0, None, outside_since=T0),
                                     bike("B1", 0, zone, operator="meituan"), bike("B3", -90, zone)])  # fmt: skip
        uow.sensing.put_bike_states([])
        uow.commit()
    with uow:
        uow.sensing.put_bike_states([bike("B2", 40, None, outside_since=T0, case_no="20260303000001")])
        uow.commit()
    with uow:
        states = uow.sensing.bike_states("hello", ["B1", "B2", "B9"])
        assert set(states) == {"B1", "B2"}
        b2 = states["B2"]
        assert (b2.operator, b2.bike_id, b2.zone_id, b2.case_no) == ("hello", "B2", None, "20260303000001")
        assert (b2.seen_at, b2.outside_since) == (T0 + timedelta(minutes=40), T0)
        assert b2.seen_at.utcoffset() == timedelta(0) and (b2.lon, b2.lat) == (114.34, 34.80)
        assert states["B1"].zone_id == zone and states["B1"].outside_since is None
        assert set(uow.sensing.bike_states("meituan", ["B1", "B2"])) == {"B1"}
        assert uow.sensing.bike_states("hello", []) == {}
        assert uow.sensing.zone_counts(T0 - timedelta(hours=1)) == {zone: 2}  # B3 was seen too long ago
        assert uow.sensing.zone_counts(T0 - timedelta(hours=2)) == {zone: 3}
        assert uow.sensing.zone_counts(T0 + timedelta(hours=1)) == {}


def test_compliance_adds_up_per_operator_and_day(uow: Any) -> None:
    with uow:
        uow.sensing.add_compliance("meituan", date(2026, 3, 2), 4, 1, 0)
        uow.sensing.add_compliance("hello", date(2026, 3, 3), 3, 1, 0)
        uow.sensing.add_compliance("hello", date(2026, 3, 3), 0, 0, 1)
        uow.sensing.add_compliance("hello", date(2026, 3, 1), 10, 10, 0)
        uow.commit()
    with uow:
        assert uow.sensing.compliance() == [("hello", 13, 11, 1), ("meituan", 4, 1, 0)]
        assert uow.sensing.compliance(date(2026, 3, 2)) == [("hello", 3, 1, 1), ("meituan", 4, 1, 0)]
        assert uow.sensing.compliance(date(2026, 3, 3)) == [("hello", 3, 1, 1)]
        assert uow.sensing.compliance(date(2026, 3, 4)) == []
