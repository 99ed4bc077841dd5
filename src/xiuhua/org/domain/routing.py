"""Dispatch suggestions: which department should dispose of a problem of this class at this place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xiuhua.org.domain.model import ClassKind, ClassSelector, Organization, OrgKind, OrgLevel

_LEVEL_RANK = {OrgLevel.STREET: 0, OrgLevel.DISTRICT: 1, OrgLevel.CITY: 2}
_REMEMBERED = 100_000  # answers kept per router before starting afresh


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """An explicit rule: this class (in this region, or anywhere) goes to this department."""

    selector: ClassSelector
    region_code: str | None
    department_code: str
    priority: int = 0


class Router:
    """Explicit rules first (by priority); then the departments whose classes and jurisdiction match,
    the most specific first: a 5-digit class over a major class, a street unit over a district one."""

    def __init__(self, rules: Sequence[RoutingRule], organizations: Sequence[Organization]) -> None:
        self.rules = sorted(rules, key=lambda r: -r.priority)
        self.departments = [o for o in organizations if o.kind is OrgKind.DEPARTMENT]
        # The answer depends only on the arguments and this router's fixed rules: remembered per place and class.
        self._answers: dict[tuple[ClassKind, str, tuple[str, ...]], str | None] = {}

    def suggest(self, kind: ClassKind, code: str, region_codes: Sequence[str]) -> str | None:
        key = (kind, code, tuple(region_codes))
        if key not in self._answers:
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()
            self._answers[key] = self._suggest(kind, code, key[2])
        return self._answers[key]

    def _suggest(self, kind: ClassKind, code: str, region_codes: Sequence[str]) -> str | None:
        places = set(region_codes)
        for rule in self.rules:
            if rule.selector.matches(kind, code) and (rule.region_code is None or rule.region_code in places):
                return rule.department_code
        candidates = []
        for dept in self.departments:
            if not places & set(dept.regions_served):
                continue
            specificity = max((len(s.code_prefix) for s in dept.classes if s.matches(kind, code)), default=0)
            if specificity:
                candidates.append((-specificity, _LEVEL_RANK[dept.level], dept.code))
        return min(candidates)[2] if candidates else None
