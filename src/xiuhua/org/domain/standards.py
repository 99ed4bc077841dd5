"""The standards catalog: GB/T 47678.5-2026 classes, the 2013 code mapping and case standards rows.

A case standard (立案、处置和结案标准) row says: for this class, when this filing condition
(立案条件) holds, disposal has this time limit (optionally one per area class A/B/C), and the case
may close when this closing condition (结案条件) holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind

AREA_CLASSES = ("A", "B", "C")
ALL_AREAS = "*"


@dataclass(frozen=True, slots=True)
class CaseClass:
    """A component or matter class: 5-digit code = 2-digit major class + 3-digit minor class."""

    kind: ClassKind
    code: str
    name: str
    major_name: str
    code_2013: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{5}", self.code):
            raise InvalidInputError("catalog.bad_code", f"类别代码“{self.code}”应为 5 位数字", code=self.code)
        if self.code_2013 is not None and not re.fullmatch(r"[0-9]{4}", self.code_2013):
            raise InvalidInputError("catalog.bad_code", f"2013 版代码“{self.code_2013}”应为 4 位数字")

    @property
    def major_code(self) -> str:
        return self.code[:2]


# GB/T 30428.2-2013 four-digit subclass codes → GB/T 47678.5-2026 five-digit codes.
# Components keep their major class and pad the minor one (AABB → AA0BB), except the water
# components listed here; 2013 event majors 01–04 moved to matter majors 06–09.
_COMPONENT_EXCEPTIONS = {"0506": "01069", "0507": "01070", "0508": "01071", "0504": None}
# 2013 codes that the plain rule would send onto the water components' new codes (local extensions
# counting down from 99 may use them): left unmapped rather than silently reclassified.
_COMPONENT_COLLISIONS = {"0169", "0170", "0171"}
_EVENT_MAJORS = {"01": "06", "02": "07", "03": "08", "04": "09"}
_EVENT_EXCEPTIONS = {"0507": "10001", "0508": "10002"}


def code_from_2013(kind: ClassKind, code_2013: str) -> str | None:
    """The 2026 code a 2013 subclass code maps to, or None where the 2013 class has no successor."""
    if not re.fullmatch(r"[0-9]{4}", code_2013):
        raise InvalidInputError("catalog.bad_code", f"2013 版代码“{code_2013}”应为 4 位数字", code=code_2013)
    major, minor = code_2013[:2], code_2013[2:]
    if kind is ClassKind.COMPONENT:
        if code_2013 in _COMPONENT_EXCEPTIONS:
            return _COMPONENT_EXCEPTIONS[code_2013]
        return None if code_2013 in _COMPONENT_COLLISIONS else f"{major}0{minor}"
    if code_2013 in _EVENT_EXCEPTIONS:
        return _EVENT_EXCEPTIONS[code_2013]
    return f"{_EVENT_MAJORS[major]}0{minor}" if major in _EVENT_MAJORS else None


def code_to_2013(kind: ClassKind, code: str) -> str | None:
    """The inverse of ``code_from_2013`` for codes that have a 2013 predecessor."""
    if not re.fullmatch(r"[0-9]{5}", code):
        raise InvalidInputError("catalog.bad_code", f"类别代码“{code}”应为 5 位数字", code=code)
    if kind is ClassKind.COMPONENT:
        for old, new in _COMPONENT_EXCEPTIONS.items():
            if new == code:
                return old
        old = code[:2] + code[3:]
        if code[2] != "0" or old in _COMPONENT_EXCEPTIONS:
            return None  # no 2013 predecessor: outside AA0BB, or a 2013 code that moved or was dropped
        return old
    for old, new in _EVENT_EXCEPTIONS.items():
        if new == code:
            return old
    old_major = {v: k for k, v in _EVENT_MAJORS.items()}.get(code[:2])
    return f"{old_major}{code[3:]}" if old_major and code[2] == "0" else None


@dataclass(frozen=True, slots=True)
class CaseStandard:
    """One row of the case standards: class, filing condition, limits by area class, closing condition."""

    kind: ClassKind
    code: str
    filing_condition: str
    closing_condition: str
    limits: dict[str, TimeLimit] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.filing_condition.strip():
            raise InvalidInputError("standard.no_condition", "立案条件不能为空")
        if not self.closing_condition.strip():
            raise InvalidInputError("standard.no_condition", "结案条件不能为空")
        if not self.limits:
            raise InvalidInputError("standard.no_limit", "处置时限不能为空")
        for area in self.limits:
            if area not in (ALL_AREAS, *AREA_CLASSES):
                raise InvalidInputError("standard.bad_area_class", f"区域类别“{area}”无效，应为 A、B、C 或留空")

    def limit_for(self, area_class: str | None) -> TimeLimit:
        """The disposal limit for a case in an area of class A/B/C (falls back to the all-areas limit)."""
        if area_class and area_class in self.limits:
            return self.limits[area_class]
        if ALL_AREAS in self.limits:
            return self.limits[ALL_AREAS]
        raise InvalidInputError(
            "standard.no_limit_for_area",
            f"该立案条件未规定{area_class or '未分类'}区域的处置时限",
            area_class=area_class,
        )
