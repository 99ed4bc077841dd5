"""Chinese motor-vehicle plate numbers (GA 36-2018): province characters, layouts per colour, the format check."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xiuhua.kernel.errors import InvalidInputError

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are never issued: they read as 1 and 0
DIGITS = "0123456789"
ALNUM = LETTERS + DIGITS
SUFFIXES = "学警挂港澳领使"


class PlateColor(StrEnum):
    BLUE = "blue"  # small cars: 7 characters, white on blue
    YELLOW = "yellow"  # large vehicles, coaching cars (学): 7 characters, black on yellow
    GREEN = "green"  # new-energy vehicles: 8 characters, black on green
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {"blue": "蓝牌", "yellow": "黄牌", "green": "绿牌（新能源）", "unknown": "未知"}[self.value]


@dataclass(frozen=True, slots=True)
class PlateLayout:
    """One layout: the characters allowed at each position."""

    name: str
    slots: tuple[str, ...]

    def matches(self, text: str) -> bool:
        return len(text) == len(self.slots) and all(ch in allowed for ch, allowed in zip(text, self.slots, strict=True))


STANDARD = PlateLayout("standard", (PROVINCES, LETTERS, ALNUM, ALNUM, ALNUM, ALNUM, ALNUM + SUFFIXES))
NEW_ENERGY_SMALL = PlateLayout("new_energy_small", (PROVINCES, LETTERS, "DF", ALNUM, DIGITS, DIGITS, DIGITS, DIGITS))
NEW_ENERGY_LARGE = PlateLayout("new_energy_large", (PROVINCES, LETTERS, DIGITS, DIGITS, DIGITS, DIGITS, DIGITS, "DF"))
LAYOUTS = (STANDARD, NEW_ENERGY_SMALL, NEW_ENERGY_LARGE)


class InvalidPlateError(InvalidInputError):
    def __init__(self, text: str) -> None:
        super().__init__("plate.invalid", f"车牌号“{text}”格式不正确", text=text)


def normalize_plate(text: str) -> str:
    """Upper case without separators: '豫b·12345 ' -> '豫B12345'."""
    return "".join(ch for ch in text.upper() if ch not in " ·.-_\t")


def layout_of(text: str) -> PlateLayout | None:
    """The layout the (normalized) number fits, or None."""
    return next((layout for layout in LAYOUTS if layout.matches(text)), None)


def is_valid_plate(text: str) -> bool:
    return layout_of(normalize_plate(text)) is not None


def check_plate(text: str) -> str:
    """The normalized plate number; raises InvalidPlateError when it fits no layout."""
    normalized = normalize_plate(text)
    if layout_of(normalized) is None:
        raise InvalidPlateError(text)
    return normalized


def expected_color(text: str) -> PlateColor:
    """The colour a valid number's layout implies: 8 characters are green; 学 is yellow; else unknown."""
    if len(text) == 8:
        return PlateColor.GREEN
    if text.endswith("学"):
        return PlateColor.YELLOW
    return PlateColor.UNKNOWN


def mask_plate(text: str) -> str:
    """For lists shown to the public: '豫B12345' -> '豫B***45'."""
    return text if len(text) < 5 else text[:2] + "*" * (len(text) - 4) + text[-2:]
