"""The case scope rule (`cases/domain/scope.py`) rendered as SQL, on the place columns of a table (cases, outbox
events); tests check that it picks exactly the cases `CaseScope.covers` picks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from xiuhua.cases.domain.scope import CaseScope
from xiuhua.platform.db import tables as t


@dataclass(frozen=True, slots=True)
class PlaceColumns:
    """The columns of a table that say where a case is and who disposes it."""

    district_code: ColumnElement[Any]
    street_code: ColumnElement[Any]
    community_code: ColumnElement[Any]
    department_code: ColumnElement[Any]


_C = t.cases.c
CASE_PLACE = PlaceColumns(_C.district_code, _C.street_code, _C.community_code, _C.department_code)
"""Where a case is and who disposes it, in the cases table."""


def region_clause(code: str, cols: PlaceColumns) -> ColumnElement[bool]:
    """SQL for in_region, on the one column a code of that length names (so an index serves it)."""
    if len(code) == 12:
        return cols.community_code == code
    if len(code) == 9:
        return cols.street_code == code
    if len(code) == 6 and code.endswith("00"):
        return or_(cols.district_code.startswith(code[:4]), cols.district_code == code)
    return cols.district_code == code


def scope_clause(scope: CaseScope, cols: PlaceColumns) -> ColumnElement[bool]:
    """SQL for `CaseScope.covers`."""
    if scope.everything:
        return true()
    if scope.organization_code:
        return cols.department_code == scope.organization_code
    if scope.region_code:
        return region_clause(scope.region_code, cols)
    return false()
