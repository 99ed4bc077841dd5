"""The read side of the organisation: names for region and organisation codes, and the departments."""

from __future__ import annotations

from sqlalchemy import Connection, select

from xiuhua.platform.db import tables as t

_R = t.regions.c
_O = t.organizations.c


def region_names(conn: Connection) -> dict[str, str]:
    """Every region's name by its code (inside an open unit of work)."""
    return {code: name for code, name in conn.execute(select(_R.code, _R.name))}


def organization_names(conn: Connection) -> dict[str, str]:
    """Every organisation's name by its code (inside an open unit of work)."""
    return {code: name for code, name in conn.execute(select(_O.code, _O.name))}


def organization_name(conn: Connection, code: str) -> str | None:
    """One organisation's name; None when no organisation has the code."""
    return conn.execute(select(_O.name).where(_O.code == code)).scalar()


def departments(conn: Connection) -> list[tuple[str, str]]:
    """(code, name) of the departments cases are dispatched to, by name."""
    return [(code, name) for code, name in conn.execute(select(_O.code, _O.name).where(_O.kind == "department")
                                                        .order_by(_O.name))]  # fmt: skip
