"""Unit grid codes, a located place, and what locating a point answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xiuhua.kernel.errors import InvalidInputError

GRID_CODE_LENGTH = 15
MAX_SERIAL = 999


def grid_code(community_code: str, serial: int) -> str:
    """GB/T 30428.2 unit grid code: county 6 + street 3 + community 3 (the 12-digit community code) + serial 3."""
    if not re.fullmatch(r"[0-9]{12}", community_code):
        raise InvalidInputError("grid.bad_community", f"社区代码“{community_code}”应为 12 位数字")
    if not 1 <= serial <= MAX_SERIAL:
        raise InvalidInputError(
            "grid.too_many", f"社区 {community_code} 的单元网格超过 {MAX_SERIAL} 个，15 位编码无法容纳", serial=serial
        )
    return f"{community_code}{serial:03d}"


def validate_grid_code(code: str) -> str:
    if not re.fullmatch(r"[0-9]{15}", code) or code.endswith("000"):
        raise InvalidInputError("grid.bad_code", f"单元网格代码“{code}”应为 15 位数字，末 3 位为 001–999", code=code)
    return code


@dataclass(frozen=True, slots=True)
class Place:
    """Where a point lies: district always; street, community and unit grid where the city has them."""

    lon: float
    lat: float
    district_code: str
    district_name: str
    street_code: str | None = None
    street_name: str | None = None
    community_code: str | None = None
    community_name: str | None = None
    grid_code: str | None = None
    area_class: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    address: str
    district_code: str
    street_code: str
    community_code: str
    grid_code: str | None = None
    area_class: str | None = None  # A / B / C

    def __post_init__(self) -> None:
        if not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise InvalidInputError("case.bad_location", f"经纬度无效：{self.lon}, {self.lat}")
        if self.area_class not in (None, "A", "B", "C"):
            raise InvalidInputError("case.bad_location", f"区域类别“{self.area_class}”无效")

    @property
    def city_code(self) -> str:
        return self.district_code[:4] + "00"  # GB/T 2260: a district's prefecture is its first four digits

    @property
    def region_codes(self) -> tuple[str, ...]:
        """Every region the place lies in, from the city down."""
        return (self.city_code, self.district_code, self.street_code, self.community_code)
