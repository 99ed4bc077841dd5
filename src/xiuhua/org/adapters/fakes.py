"""In-memory repositories of the organisation, for service tests: the same Protocols as the SQL ones
(org.ports), held in plain containers a unit of work can copy and restore."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from xiuhua.org.domain.calendar import Schedule
from xiuhua.org.domain.model import ClassKind, Organization, OrgKind, Region, Staff
from xiuhua.org.domain.standards import CaseClass, CaseStandard


class FakeRegions:
    def __init__(self) -> None:
        self.rows: dict[str, Region] = {}

    def upsert(self, regions: Sequence[Region]) -> None:
        figures = any(r.population is not None for r in regions)  # a list without figures keeps stored ones
        for r in regions:
            kept = self.rows.get(r.code)
            population = r.population if figures or kept is None else kept.population
            self.rows[r.code] = replace(r, population=population)

    def set_populations(self, populations: dict[str, int]) -> None:
        for code, n in populations.items():
            if code in self.rows:
                self.rows[code] = replace(self.rows[code], population=n)

    def populations(self) -> dict[str, int]:
        return {code: r.population for code, r in self.rows.items() if r.population is not None}

    def all(self) -> list[Region]:
        return [self.rows[code] for code in sorted(self.rows)]

    def codes(self) -> set[str]:
        return set(self.rows)

    def count_by_level(self) -> dict[str, int]:
        return dict(Counter(r.level.value for r in self.rows.values()))


class FakeOrganizations:
    def __init__(self) -> None:
        self.rows: dict[str, Organization] = {}

    def ids_by_code(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.rows, start=1)}

    def upsert(self, orgs: Sequence[Organization]) -> None:
        for o in orgs:
            self.rows[o.code] = replace(o, jurisdiction=tuple(sorted(o.jurisdiction)), classes=tuple(sorted(o.classes)))

    def all(self) -> list[Organization]:
        return sorted(self.rows.values(), key=lambda o: (o.level.value, o.region_code, o.code))

    def get(self, code: str) -> Organization | None:
        return self.rows.get(code)

    def kind_of(self, code: str) -> OrgKind | None:
        org = self.rows.get(code)
        return org.kind if org else None

    def count_by_kind(self) -> dict[str, int]:
        return dict(Counter(o.kind.value for o in self.rows.values()))


class FakeStaffDirectory:
    def __init__(self) -> None:
        self.rows: dict[str, Staff] = {}

    def upsert(self, accounts: Sequence[Staff]) -> None:
        for s in accounts:
            self.rows[s.username] = s

    def all(self, username: str | None = None) -> list[Staff]:
        return [s for name, s in sorted(self.rows.items()) if username is None or name == username]

    def get(self, username: str) -> Staff | None:
        return self.rows.get(username)

    def count_by_role(self) -> dict[str, int]:
        return dict(Counter(role.value for s in self.rows.values() for role in s.roles))


class FakeCatalog:
    def __init__(self) -> None:
        self.class_rows: dict[tuple[ClassKind, str], CaseClass] = {}
        self.standard_rows: dict[int, CaseStandard] = {}

    def upsert_classes(self, classes: Sequence[CaseClass]) -> None:
        for c in classes:
            self.class_rows[(c.kind, c.code)] = c

    def classes(self) -> list[CaseClass]:
        return [self.class_rows[key] for key in sorted(self.class_rows)]

    def upsert_standards(self, standards: Sequence[CaseStandard]) -> None:
        """By (class, filing condition): an existing row keeps its id and position."""
        ids = {(s.kind, s.code, s.filing_condition): i for i, s in self.standard_rows.items()}
        for s in standards:
            key = (s.kind, s.code, s.filing_condition)
            id_ = ids.get(key) or max(self.standard_rows, default=0) + 1
            ids[key] = id_
            self.standard_rows[id_] = replace(s, limits=dict(s.limits), id=id_)

    def standards(self) -> list[CaseStandard]:
        return [self.standard_rows[i] for i in sorted(self.standard_rows)]

    def standard(self, standard_id: int) -> CaseStandard | None:
        return self.standard_rows.get(standard_id)

    def has_class(self, kind: ClassKind, code: str) -> bool:
        return (kind, code) in self.class_rows

    def count_classes(self) -> dict[str, int]:
        return dict(Counter(kind.value for kind, _ in self.class_rows))

    def count_standards(self) -> int:
        return len(self.standard_rows)


class FakeCalendarStore:
    def __init__(self) -> None:
        self.schedule_rows: dict[str, Schedule] = {}
        self.override_rows: dict[date, tuple[bool, str]] = {}

    def schedules(self) -> list[Schedule]:
        return list(self.schedule_rows.values())

    def put_schedule(self, schedule: Schedule) -> None:
        self.schedule_rows[schedule.name] = schedule

    def overrides(self) -> dict[date, tuple[bool, str]]:
        return dict(sorted(self.override_rows.items()))

    def set_override(self, day: date, workday: bool, reason: str) -> None:
        self.override_rows[day] = (workday, reason)

    def delete_override(self, day: date) -> bool:
        return self.override_rows.pop(day, None) is not None


class FakeSettingsStore:
    """Values kept as JSON text, as the SQL table keeps them: what comes back is what JSON round-trips."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = self.rows.get(key)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any) -> None:
        self.rows[key] = json.dumps(value, ensure_ascii=False)
