"""Special campaigns (专项整治): a chronic problem attacked for a time, in some areas, against targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassKind


class TargetKind(StrEnum):
    DISPOSE_WITHIN = "dispose_within"  # a share of the cases put right within so many hours of the report
    CLOSED_SHARE = "closed_share"  # a share of the campaign's cases closed by the end of the window
    QUANTITY = "quantity"  # an amount of work reported by the units (km of wires put underground, …)


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    name: str
    share: float = 1.0
    hours: float | None = None
    amount: float | None = None
    unit: str = ""

    def achievement(self, actual: float | None) -> float | None:
        """Share of the target reached, capped at 1; None without anything to measure."""
        goal = self.amount if self.kind is TargetKind.QUANTITY else self.share
        if actual is None or not goal:
            return None
        return min(actual / goal, 1.0)


@dataclass(frozen=True, slots=True)
class Campaign:
    code: str
    name: str
    classes: tuple[tuple[ClassKind, str], ...]
    regions: tuple[str, ...]
    start: date
    end: date
    headquarters: str
    targets: tuple[Target, ...]

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Campaign:
        """Parse and check one campaign; raises InvalidInputError naming what is wrong."""
        try:
            targets = []
            for t in body["targets"]:
                kind = TargetKind(t["kind"])
                target = Target(
                    kind,
                    str(t["name"]),
                    float(t.get("share", 1.0)),
                    float(t["hours"]) if kind is TargetKind.DISPOSE_WITHIN else None,
                    float(t["amount"]) if kind is TargetKind.QUANTITY else None,
                    str(t.get("unit", "")),
                )
                targets.append(target)
            campaign = cls(
                code=str(body["code"]).strip(),
                name=str(body["name"]).strip(),
                classes=tuple((ClassKind(k), str(c)) for k, c in body["classes"]),
                regions=tuple(str(r) for r in body.get("regions", [])),
                start=date.fromisoformat(str(body["start"])),
                end=date.fromisoformat(str(body["end"])),
                headquarters=str(body.get("headquarters", "")),
                targets=tuple(targets),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError("campaign.bad_definition", f"专项整治定义有误：{exc}") from None
        if not campaign.code or not campaign.name or not campaign.classes:
            raise InvalidInputError("campaign.bad_definition", "专项整治须有代码、名称和问题类别")
        if campaign.end < campaign.start:
            raise InvalidInputError("campaign.bad_definition", f"专项整治“{campaign.name}”结束早于开始")
        if any(not 0 < t.share <= 1 for t in campaign.targets):
            raise InvalidInputError("campaign.bad_definition", "目标比例应在 0–1 之间")
        return campaign

    def in_scope(self, kind: str, class_code: str, region_codes: tuple[str, ...]) -> bool:
        """Whether a case of this class, in these regions (city down to community), is the campaign's."""
        in_class = any(kind == k.value and class_code.startswith(prefix) for k, prefix in self.classes)
        return in_class and (not self.regions or any(r in self.regions for r in region_codes))
