"""Tests of the standards catalog: the 2013 ↔ 2026 code mapping, case standards and time limits."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from tests.conftest import shared
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.standards import CaseClass, CaseStandard, code_from_2013, code_to_2013

CLASSES_2013 = ("standards", "gbt30428_2_2013_classes_yuncheng.csv")
DIRECTORY_2026 = ("standards", "gb47678_5_2026_directory.csv")

C = ClassKind.COMPONENT
M = ClassKind.MATTER


# ---------------------------------------------------------------- code_from_2013 / code_to_2013


@pytest.mark.parametrize(
    ("code_2013", "expected"),
    [
        ("0101", "01001"),
        ("0199", "01099"),
        ("0203", "02003"),
        ("0397", "03097"),
        ("0501", "05001"),
        ("0505", "05005"),
        ("0509", "05009"),
        ("0601", "06001"),
        ("0506", "01069"),
        ("0507", "01070"),
        ("0508", "01071"),
        ("0504", None),
    ],
)
def test_component_code_from_2013(code_2013: str, expected: str | None) -> None:
    assert code_from_2013(C, code_2013) == expected


@pytest.mark.parametrize(
    ("code_2013", "expected"),
    [
        ("0101", "06001"),
        ("0115", "06015"),
        ("0201", "07001"),
        ("0299", "07099"),
        ("0301", "08001"),
        ("0401", "09001"),
        ("0422", "09022"),
        ("0507", "10001"),
        ("0508", "10002"),
        ("0501", None),
        ("0504", None),
        ("0506", None),
        ("0601", None),
        ("0001", None),
        ("9901", None),
    ],
)
def test_event_code_from_2013(code_2013: str, expected: str | None) -> None:
    assert code_from_2013(M, code_2013) == expected


@pytest.mark.parametrize("kind", [C, M])
@pytest.mark.parametrize("code_2013", ["", "101", "01001", "01a1", "01-1", " 0101"])
def test_code_from_2013_rejects_malformed_codes(kind: ClassKind, code_2013: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        code_from_2013(kind, code_2013)
    assert caught.value.code == "catalog.bad_code"


def test_code_from_2013_rejects_full_width_digits() -> None:
    # Full-width digits come in through Chinese input methods; they are not ASCII codes.
    with pytest.raises(InvalidInputError) as caught:
        code_from_2013(C, "０１０１")
    assert caught.value.code == "catalog.bad_code"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("01001", "0101"),
        ("01099", "0199"),
        ("02003", "0203"),
        ("05005", "0505"),
        ("01069", "0506"),
        ("01070", "0507"),
        ("01071", "0508"),
        ("01100", None),  # a minor class ≥ 100 has no 2-digit predecessor
        ("02150", None),
    ],
)
def test_component_code_to_2013(code: str, expected: str | None) -> None:
    assert code_to_2013(C, code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("06001", "0101"),
        ("07099", "0299"),
        ("08001", "0301"),
        ("09022", "0422"),
        ("10001", "0507"),
        ("10002", "0508"),
        ("10003", None),
        ("01001", None),  # component-abnormality matters have no 2013 event predecessor
        ("05001", None),
        ("06100", None),
        ("11001", None),
    ],
)
def test_matter_code_to_2013(code: str, expected: str | None) -> None:
    assert code_to_2013(M, code) == expected


def _all_2013_codes() -> list[str]:
    return [f"{major:02d}{minor:02d}" for major in range(100) for minor in range(100)]


# By the plain AABB → AA0BB rule these 2013 component codes would land on 01069–01071, which the
# water-component exceptions (0506/0507/0508) occupy; no real 2013 class uses them, so they are left out.
_COLLIDING_2013_COMPONENTS = {"0169", "0170", "0171"}
# 2026 component codes whose plain-rule 2013 counterpart is an exception (0504 dropped, 0506–0508 moved).
_REMAPPED_2026_COMPONENTS = ("05004", "05006", "05007", "05008")


@pytest.mark.parametrize("kind", [C, M])
def test_every_2013_code_round_trips(kind: ClassKind) -> None:
    mapped = 0
    targets: set[str] = set()
    for code_2013 in _all_2013_codes():
        if kind is C and code_2013 in _COLLIDING_2013_COMPONENTS:
            continue
        new = code_from_2013(kind, code_2013)
        if new is None:
            continue
        mapped += 1
        assert len(new) == 5
        assert new.isdigit()
        assert new not in targets, (kind, code_2013, new)
        targets.add(new)
        assert code_to_2013(kind, new) == code_2013, (kind, code_2013, new)
    # Components: all 10,000 codes but 0504 and the three colliding ones; events: majors 01–04 plus 0507, 0508.
    assert mapped == (9_996 if kind is C else 402)


@pytest.mark.parametrize("kind", [C, M])
def test_code_to_2013_round_trips_from_2026(kind: ClassKind) -> None:
    checked = 0
    for major in range(100):
        for minor in range(1000):
            code = f"{major:02d}{minor:03d}"
            if kind is C and code in _REMAPPED_2026_COMPONENTS:
                continue
            old = code_to_2013(kind, code)
            if old is None:
                continue
            checked += 1
            assert code_from_2013(kind, old) == code, (kind, code, old)
    assert checked == (9_996 if kind is C else 402)


@pytest.mark.parametrize("code", _REMAPPED_2026_COMPONENTS)
def test_code_to_2013_has_no_predecessor_for_remapped_component_codes(code: str) -> None:
    # 0504 has no successor and 0506–0508 map to 01069–01071, so 05004/05006–05008 have no 2013 predecessor.
    assert code_to_2013(C, code) is None


# ---------------------------------------------------------------- against the real tables


def _read_2013_classes() -> list[dict[str, str]]:
    with shared(*CLASSES_2013).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_2026_directory() -> set[tuple[ClassKind, str]]:
    with shared(*DIRECTORY_2026).open(encoding="utf-8-sig", newline="") as handle:
        return {(ClassKind.parse(row["kind"]), row["code"]) for row in csv.DictReader(handle)}


def test_2013_table_reads_with_quoted_newline() -> None:
    rows = _read_2013_classes()
    assert len(rows) == 190  # as stated in the standards README
    assert {row["类型"] for row in rows} == {"部件", "事件"}
    multi_line = [row for row in rows if "\n" in row["小类名称"]]
    assert [row["4位代码"] for row in multi_line] == ["0397"]
    for row in rows:
        assert len(row["4位代码"]) == 4
        assert row["4位代码"].isdigit()


def test_2026_directory_has_components_and_matters() -> None:
    directory = _read_2026_directory()
    assert sum(1 for kind, _ in directory if kind is C) == 153
    assert sum(1 for kind, _ in directory if kind is M) == 250


def test_2013_classes_map_back_from_existing_2026_classes() -> None:
    directory = _read_2026_directory()
    mapped = 0
    for row in _read_2013_classes():
        kind = ClassKind.parse(row["类型"])
        code_2013 = row["4位代码"]
        new = code_from_2013(kind, code_2013)
        if new is None or (kind, new) not in directory:
            continue
        mapped += 1
        assert code_to_2013(kind, new) == code_2013, (row, new)
        CaseClass(kind, new, row["小类名称"], row["大类名称"], code_2013=code_2013)
    # 121 of the 190 classes map to an existing 2026 class (the rest are local extensions or retired).
    assert mapped >= 115


def test_known_2013_classes_map_to_directory_names() -> None:
    directory = _read_2026_directory()
    # 0101 上水井盖 → 01001 供水井盖; 0506 (water component) → 01069 水域附属设施.
    assert code_from_2013(C, "0101") == "01001"
    assert (C, "01001") in directory
    assert (C, code_from_2013(C, "0506")) in directory
    assert (M, code_from_2013(M, "0507")) in directory
    assert (M, code_from_2013(M, "0508")) in directory


# ---------------------------------------------------------------- CaseClass


def test_case_class_major_code() -> None:
    case_class = CaseClass(C, "01001", "供水井盖", "市政公用设施", code_2013="0101")
    assert case_class.major_code == "01"


@pytest.mark.parametrize(("code", "code_2013"), [("0101", None), ("010011", None), ("0100A", None), ("01001", "101")])
def test_case_class_rejects_bad_codes(code: str, code_2013: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CaseClass(C, code, "名称", "大类", code_2013=code_2013)
    assert caught.value.code == "catalog.bad_code"


# ---------------------------------------------------------------- CaseStandard


def _limit(text: str) -> TimeLimit:
    return TimeLimit.parse(text)


def _standard(**overrides: object) -> CaseStandard:
    fields: dict[str, object] = {
        "kind": C,
        "code": "01001",
        "filing_condition": "井盖缺失",
        "closing_condition": "井盖已补齐",
        "limits": {"*": _limit("2紧急工作时")},
    }
    fields.update(overrides)
    return CaseStandard(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("field_name", ["filing_condition", "closing_condition"])
@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_case_standard_rejects_empty_conditions(field_name: str, value: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _standard(**{field_name: value})
    assert caught.value.code == "standard.no_condition"


def test_case_standard_requires_a_limit() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _standard(limits={})
    assert caught.value.code == "standard.no_limit"


@pytest.mark.parametrize("area", ["D", "a", "", "all", "A,B"])
def test_case_standard_rejects_bad_area_class(area: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _standard(limits={"A": _limit("1天"), area: _limit("2天")})
    assert caught.value.code == "standard.bad_area_class"


def test_limit_for_uses_area_specific_limit() -> None:
    standard = _standard(limits={"A": _limit("1工作时"), "B": _limit("2工作时"), "*": _limit("4工作时")})
    assert standard.limit_for("A") == _limit("1工作时")
    assert standard.limit_for("B") == _limit("2工作时")


@pytest.mark.parametrize("area", ["C", None, ""])
def test_limit_for_falls_back_to_all_areas(area: str | None) -> None:
    standard = _standard(limits={"A": _limit("1工作时"), "*": _limit("4工作时")})
    assert standard.limit_for(area) == _limit("4工作时")


def test_limit_for_single_all_areas_limit() -> None:
    assert _standard().limit_for("B") == TimeLimit(Decimal(2), "紧急工作时")


@pytest.mark.parametrize("area", ["C", None])
def test_limit_for_missing_area_without_fallback(area: str | None) -> None:
    standard = _standard(limits={"A": _limit("1工作时"), "B": _limit("2工作时")})
    with pytest.raises(InvalidInputError) as caught:
        standard.limit_for(area)
    assert caught.value.code == "standard.no_limit_for_area"
    assert caught.value.details["area_class"] == area


# ---------------------------------------------------------------- TimeLimit.parse


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("2紧急工作时", Decimal(2), "紧急工作时"),
        ("4 小时", Decimal(4), "小时"),
        ("0.5工作时", Decimal("0.5"), "工作时"),
        ("  1 天 ", Decimal(1), "天"),
        ("3工作日", Decimal(3), "工作日"),
        ("0自然日", Decimal(0), "自然日"),
    ],
)
def test_time_limit_parse(text: str, value: Decimal, unit: str) -> None:
    limit = TimeLimit.parse(text)
    assert limit.value == value
    assert limit.unit == unit


@pytest.mark.parametrize(
    ("text", "expected"), [("2紧急工作时", "2紧急工作时"), ("4 小时", "4小时"), ("0.50工作时", "0.5工作时")]
)
def test_time_limit_str(text: str, expected: str) -> None:
    assert str(TimeLimit.parse(text)) == expected


@pytest.mark.parametrize("text", ["-1天", "-0.5工作时", " -2 小时"])
def test_time_limit_parse_rejects_negative(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        TimeLimit.parse(text)
    assert caught.value.code == "limit.negative"


@pytest.mark.parametrize("text", ["abc", "", "4", "小时4", "1.5.2小时", "4 小 时", ".5天", "2天3小时"])
def test_time_limit_parse_rejects_unparseable(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        TimeLimit.parse(text)
    assert caught.value.code == "limit.unparseable"
