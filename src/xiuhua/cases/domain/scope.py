"""Who sees which case: the one rule, as data with its Python test (its SQL rendering is `cases/adapters/scope_sql.py`).

The system sees every case; an organisation-scoped account, the cases that organisation disposes; a
region-scoped account, the cases located in its region (a city ``xxxx00``, a district, a street of 9 digits
or a community of 12, GB/T 2260 codes nest by prefix); a citizen sees no case by place (only their own
reports, found through the case log by the read side); an account without a scope sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from xiuhua.kernel.actor import Actor, Role


def city_of(district_code: str) -> str:
    """The prefecture-level city of a district: its first four digits and ``00`` (GB/T 2260)."""
    return district_code[:4] + "00"


def in_region(code: str, district_code: str | None, street_code: str | None, community_code: str | None) -> bool:
    """Whether a place lies in the region ``code`` (a city, district, street or community)."""
    city = city_of(district_code) if district_code else None
    return code in (city, district_code, street_code, community_code)


@dataclass(frozen=True, slots=True)
class CaseScope:
    """The cases one actor sees: every case, one organisation's, one region's, or none by place."""

    everything: bool = False
    organization_code: str | None = None
    region_code: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> CaseScope:
        """The scope of an actor: the system sees all; an organisation scope wins over a region scope."""
        if Role.SYSTEM in actor.roles:
            return cls(everything=True)
        if Role.CITIZEN in actor.roles:
            return cls()  # a citizen's own reports are found by the read side, never by place
        if actor.scope_organization_code:
            return cls(organization_code=actor.scope_organization_code)
        if actor.scope_region_code:
            return cls(region_code=actor.scope_region_code)
        return cls()

    def covers(
        self,
        district_code: str | None,
        street_code: str | None,
        community_code: str | None,
        department_code: str | None,
    ) -> bool:
        """Whether a case at this place, disposed by this department, is in the scope."""
        if self.everything:
            return True
        if self.organization_code:
            return department_code == self.organization_code
        if self.region_code:
            return in_region(self.region_code, district_code, street_code, community_code)
        return False
