"""Importing a ledger of historical cases, and evaluating the past from it, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.integration.test_evaluation import HERE, WATER, City, make_city
from xiuhua.cases.services import history_import as history
from xiuhua.cases.services.audit import verify_log
from xiuhua.evaluation.services import evaluate as ev
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import read_table
from xiuhua.unit_of_work import SqlUnitOfWork

PLACE = {"district_code": HERE.district_code, "street_code": HERE.street_code,
         "community_code": HERE.community_code, "lon": "114.3455", "lat": "34.807", "address": "东门"}  # fmt: skip
GOOD = [
    {"case_no": "H1", "source": "supervisor", "kind": "component", "class_code": "01001", "department_code": WATER,
     "reported_at": "2025-10-08 09:00", "accepted_at": "2025-10-08 09:05", "filed_at": "2025-10-08 09:10",
     "dispatched_at": "2025-10-08 09:15", "disposal_due_at": "2025-10-08 11:15", "disposed_at": "2025-10-08 10:30",
     "checked_at": "2025-10-08 11:00", "closed_at": "2025-10-08 11:10"},
    {"case_no": "H2", "source": "监督员上报", "kind": "部件", "class_code": "0101", "department_code": WATER,
     "reported_at": "2025-10-09T09:00+08:00", "filed_at": "2025-10-09T09:10+08:00",
     "dispatched_at": "2025-10-09T09:15+08:00", "disposal_due_at": "2025-10-09T11:15+08:00",
     "disposed_at": "2025-10-09T12:00+08:00", "closed_at": "2025-10-09T13:00+08:00"},
    {"case_no": "H3", "source": "public", "kind": "component", "class_code": "01001", "department_code": WATER,
     "reported_at": "2025-10-10 09:00", "accepted_at": "2025-10-10 09:05", "verified_at": "2025-10-10 09:40",
     "filed_at": "2025-10-10 09:50", "dispatched_at": "2025-10-10 10:00", "disposal_due_at": "2025-10-10 12:00"},
    {"case_no": "H4", "source": "hotline", "kind": "component", "class_code": "01001",
     "reported_at": "2025-10-11 09:00", "voided_at": "2025-10-11 09:20"},
    {"case_no": "H5", "source": "self_disposal", "kind": "component", "class_code": "01001",
     "reported_at": "2025-10-12 09:00", "closed_at": "2025-10-12 10:00"},
]  # fmt: skip
COLUMNS = history.COLUMNS


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**PLACE, **row})
    return path


@pytest.fixture
def city(uow: SqlUnitOfWork) -> City:
    return make_city(uow)


def test_a_valid_ledger_is_imported_and_its_month_evaluated(city: City, tmp_path: Path) -> None:
    rows = read_table(write(tmp_path / "ledger.csv", GOOD))
    report = history.import_cases(history.ImportCases(rows), city.uow)
    assert report.written == 5 and report.skipped == []
    assert verify_log(city.uow).broken == []  # the imported logs are hash-chained like live ones
    result = ev.evaluate(ev.Evaluate("2025-10", trend_periods=0), city.uow)
    district = next(r for r in result.objects["district"] if r.code == "410202")
    # filed: H1, H2, H3 and the self-disposed H5; closed: H1, H2, H5; late disposal: H2; verified public: H3
    assert district.counts["filed"] == 4 and district.counts["closed"] == 3
    assert district.counts["closed_on_time"] == 2 and district.counts["overdue_closed"] == 1
    assert district.counts["public_verified"] == 1 and district.counts["self_disposed"] == 1
    water = next(r for r in result.objects["department"] if r.code == WATER)
    assert (water.counts["dispatched"], water.counts["disposed"], water.counts["disposed_on_time"]) == (3, 2, 1)
    assert water.values["on_time_disposal_rate"] == 0.3333
    assert all(r.code != "import" for kind in ev.POST_TYPES for r in result.objects[kind.value])
    with city.uow:
        case = city.uow.cases.get("H2")
    assert case is not None and case.class_code == "01001"  # the 2013 code 0101 mapped to 01001
    assert case.state.value == "closed"


def test_a_disposal_without_a_deadline_has_unknown_timing(city: City, tmp_path: Path) -> None:
    """H6 was disposed against no deadline: 时限未知, in neither side of the on-time rates (not on time)."""
    untimed = {"case_no": "H6", "source": "supervisor", "kind": "component", "class_code": "01001",
               "department_code": WATER, "reported_at": "2025-10-13 09:00", "filed_at": "2025-10-13 09:10",
               "dispatched_at": "2025-10-13 09:15", "disposed_at": "2025-10-13 10:00",
               "closed_at": "2025-10-13 11:00"}  # fmt: skip
    history.import_cases(history.ImportCases(read_table(write(tmp_path / "ledger.csv", [*GOOD, untimed]))), city.uow)
    result = ev.evaluate(ev.Evaluate("2025-10", trend_periods=0), city.uow)
    water = next(r for r in result.objects["department"] if r.code == WATER)
    assert (water.counts["disposed"], water.counts["disposed_on_time"], water.counts["timing_unknown"]) == (3, 1, 1)
    assert (water.counts["to_dispose"], water.counts["timed_to_dispose"]) == (4, 3)
    assert water.values["on_time_disposal_rate"] == 0.3333  # H1 of H1, H2, H3: H6 is left out
    district = next(r for r in result.objects["district"] if r.code == "410202")
    counts = district.counts
    assert (counts["closed"], counts["closed_on_time"], counts["timing_unknown"]) == (4, 2, 1)
    assert (counts["due_to_close"], counts["timed_due_to_close"]) == (5, 4)
    drilled = ev.drill(ev.Drill("2025-10", "department", WATER, "on_time_disposal_rate"), city.uow)
    assert "H6" not in drilled.numerator_cases and "H6" not in drilled.denominator_cases
    with city.uow:
        assert ev.check_tallies("2025-10", city.uow).differences == []


def write_events(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(history.EVENT_COLUMNS)
        writer.writerows(rows)
    return path


def test_rework_urges_extensions_parks_and_repeats_come_in_with_the_history(city: City, tmp_path: Path) -> None:
    """H1 was urged, reworked once, extended and parked then resumed; H5 repeats H1: each counts as the
    live loop would have counted it, and the imported log is still a valid chain."""
    events = [("H1", "督办", "2025-10-08 09:20"), ("H1", "rework", "2025-10-08 09:40"),
              ("H1", "延期", "2025-10-08 09:50"), ("H1", "挂账", "2025-10-08 09:55"),
              ("H1", "恢复", "2025-10-08 10:00")]  # fmt: skip
    rows = [*GOOD[:4], {**GOOD[4], "repeat_of": "H1"}]
    ledger, happened = write(tmp_path / "ledger.csv", rows), write_events(tmp_path / "events.csv", events)
    report = history.import_cases(history.ImportCases(read_table(ledger), events=read_table(happened)), city.uow)
    assert report.written == 5
    assert verify_log(city.uow).broken == []
    with city.uow:
        log = [e.action.value for e in city.uow.cases.log("H1")]
        assert city.uow.evaluation.tallies("2025-10")  # the tallies were written with the cases
    assert log == ["report", "accept", "file", "dispatch", "urge", "feedback", "send_check", "check_fail", "rework",
                   "request_extension", "approve", "request_park", "approve", "resume", "feedback", "send_check",
                   "check_pass", "close"]  # fmt: skip
    result = ev.evaluate(ev.Evaluate("2025-10", trend_periods=0), city.uow)
    water = next(r for r in result.objects["department"] if r.code == WATER).counts
    assert (water["reworked"], water["urged"], water["extended"], water["parked"]) == (1, 1, 1, 1)
    district = next(r for r in result.objects["district"] if r.code == "410202").counts
    assert (district["reworked"], district["urged"], district["repeated"]) == (1, 1, 1)
    assert next(r for r in result.objects["department"] if r.code == WATER).values["rework_rate"] == 0.5
    with city.uow:
        assert ev.check_tallies("2025-10", city.uow).differences == []


def test_events_out_of_order_or_unknown_reject_the_whole_import(city: City, tmp_path: Path) -> None:
    events = [
        ("H9", "urge", "2025-10-08 10:00"),  # row 2: no such case in the ledger
        ("H1", "pigeon", "2025-10-08 10:00"),  # row 3: no such event
        ("H2", "urge", "2025-10-09 09:05"),  # row 4: before H2 was filed
        ("H3", "park", "2025-10-10 11:00"),  # row 5: H3 is parked and never resumed: fine, it is still open
        ("H1", "rework", "2025-10-08 10:45"),  # row 6: after H1's disposal
    ]  # fmt: skip
    rows = [*GOOD[:3], {**GOOD[3], "repeat_of": "H404"}]
    ledger, happened = write(tmp_path / "ledger.csv", rows), write_events(tmp_path / "events.csv", events)
    with pytest.raises(ImportRejectedError) as info:
        history.import_cases(history.ImportCases(read_table(ledger), events=read_table(happened)), city.uow)
    codes = sorted(e.code for e in info.value.errors)
    assert codes == ["history.bad_event", "history.event_order", "history.event_order",
                                     "history.event_unknown_case", "history.unknown_repeat"]  # fmt: skip
    messages = " ".join(str(e) for e in info.value.errors)
    assert "事件表第 4 行" in messages and "事件表第 6 行" in messages and "H404" in messages
    with city.uow:
        assert city.uow.cases.get("H3") is None  # nothing written


BAD = [
    ({"case_no": "B1", "class_code": "99999"}, "history.unknown_class"),
    ({"case_no": "B2", "reported_at": "yesterday"}, "history.bad_time"),
    ({"case_no": "B3", "filed_at": "2025-10-08 08:00"}, "history.bad_order"),
    ({"case_no": "B4", "department_code": "NOPE"}, "history.unknown_department"),
    ({"case_no": "B5", "source": "pigeon"}, "history.bad_source"),
    ({"case_no": "B6", "community_code": "999999999999"}, "history.unknown_region"),
    ({"case_no": "H1"}, "history.duplicate_case"),
    ({"case_no": "B8", "voided_at": "2025-10-08 12:00"}, "history.void_and_file"),
    ({"case_no": "B9", "lon": "east"}, "history.bad_location"),
    ({"case_no": "B10", "street_code": "410203001"}, "history.region_mismatch"),  # a street of another district
    ({"case_no": "B11", "community_code": "410202002011"}, "history.region_mismatch"),  # of another street
    ({"case_no": "B12", "filed_at": "", "checked_at": "", "closed_at": ""}, "history.dispatched_unfiled"),
    ({"case_no": "B13", "voided_at": "2025-10-08 12:00", "filed_at": "", "checked_at": "", "closed_at": ""},
     "history.void_and_dispatch"),
    ({"case_no": "B14", "disposal_due_at": "2025-10-08 09:00"}, "history.bad_deadline"),  # before the dispatch
]  # fmt: skip


def test_invalid_rows_reject_the_whole_file_with_row_numbers(city: City, tmp_path: Path) -> None:
    rows = [GOOD[0]] + [{**GOOD[0], **change} for change, _ in BAD]
    with pytest.raises(ImportRejectedError) as info:
        history.import_cases(history.ImportCases(read_table(write(tmp_path / "bad.csv", rows))), city.uow)
    assert [(e.row, e.code) for e in info.value.errors] == [(i + 3, code) for i, (_, code) in enumerate(BAD)]
    with city.uow:
        assert city.uow.cases.get("H1") is None  # nothing written


def test_skip_invalid_writes_the_good_rows_and_lists_the_rest(city: City, tmp_path: Path) -> None:
    rows = [*GOOD, {**GOOD[0], "case_no": "B1", "class_code": "99999"}]
    report = history.import_cases(
        history.ImportCases(read_table(write(tmp_path / "mixed.csv", rows)), skip_invalid=True), city.uow
    )
    assert report.written == 5 and [(e.row, e.code) for e in report.skipped] == [(7, "history.unknown_class")]
    again = history.import_cases(
        history.ImportCases(read_table(write(tmp_path / "again.csv", GOOD[:1])), skip_invalid=True), city.uow
    )
    assert again.written == 0 and again.skipped[0].code == "history.duplicate_case"
