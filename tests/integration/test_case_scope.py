"""The one scope rule: its Python test and its SQL rendering pick the same cases, for random actors and places,
on SQLite and PostgreSQL; access checks, the read side and the event stream all use it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from xiuhua.cases.adapters.scope_sql import PlaceColumns, scope_clause
from xiuhua.cases.domain.case import Case, Urgency
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.access import in_scope
from xiuhua.cases.services.outbox import Event, visible_to
from xiuhua.cases.views import queries
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor, Role
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
_O = t.outbox.c
EVENT_PLACE = PlaceColumns(_O.district_code, _O.street_code, _O.community_code, _O.department_code)
DEPARTMENTS = ("D-WATER", "D-ROADS", "D-PARKS")
_serial = itertools.count()

cities = st.sampled_from(("4102", "4103"))
districts = st.builds(lambda city, d: city + d, cities, st.sampled_from(("00", "02", "03")))
streets = st.builds(lambda district, s: district + s, districts, st.sampled_from(("001", "002")))
communities = st.builds(lambda street, c: street + c, streets, st.sampled_from(("001", "009")))


@st.composite
def places(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    community = draw(communities)
    department = draw(st.none() | st.sampled_from(DEPARTMENTS))
    return community[:6], community[:9], community, department


region_codes = (
    st.none()
    | st.builds(lambda city: city + "00", cities)
    | districts
    | streets
    | communities
    | st.sampled_from(("", "4102", "410000", "41020", "999999"))
)
actors = st.builds(
    lambda roles, region, org: Actor("someone", frozenset(roles), region, org),
    st.sets(st.sampled_from(list(Role)), max_size=3),
    region_codes,
    st.none() | st.sampled_from(DEPARTMENTS[:2]),
)


def case_at(district: str, street: str, community: str, department: str | None) -> Case:
    location = Location(114.35, 34.80, "某街", district, street, community, None, "B")
    case = Case(case_no="KF20260303000001", source=Source.SUPERVISOR, kind=ClassKind.COMPONENT,
                class_code="01001", location=location, description="x", urgency=Urgency.NORMAL,
                reported_at=T0)  # fmt: skip
    case.department_code = department
    return case


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actor=actors, placed=st.lists(places(), min_size=1, max_size=8))
def test_the_python_rule_and_its_sql_agree(
    uow: SqlUnitOfWork, actor: Actor, placed: list[tuple[str, str, str, str | None]]
) -> None:
    scope = CaseScope.of(actor)
    batch = f"s{next(_serial)}"
    events = [
        Event("case.transitioned", T0, f"{batch}-{i}", district, street, community, department)
        for i, (district, street, community, department) in enumerate(placed)
    ]
    with uow:
        uow.outbox.add(events)
        uow.commit()
    with uow:
        in_sql = set(
            uow.connection.scalars(
                select(_O.case_no).where(_O.case_no.startswith(batch + "-"), scope_clause(scope, EVENT_PLACE))
            )
        )
    in_python = {e.case_no for e in events if scope.covers(e.district_code, e.street_code, e.community_code,
                                                           e.department_code)}  # fmt: skip
    assert in_sql == in_python
    assert {e.case_no for e in events if visible_to(e, actor)} == in_python
    assert {e.case_no for e, p in zip(events, placed, strict=True) if in_scope(actor, case_at(*p))} == in_python


def test_the_read_side_renders_the_same_scope_on_the_cases_table() -> None:
    actor = Actor("someone", frozenset({Role.DISPATCHER}), "410202")
    assert str(queries.scope_clause(actor)) == str(scope_clause(CaseScope.of(actor), queries.CASE_PLACE))


def test_who_sees_what() -> None:
    place = ("410202", "410202001", "410202001009", "D-WATER")
    staff = frozenset({Role.DISPATCHER})
    assert CaseScope.of(Actor("sys", frozenset({Role.SYSTEM}))).covers(*place)
    assert CaseScope.of(Actor("u", staff, "410200")).covers(*place)  # the city
    assert CaseScope.of(Actor("u", staff, "410202001")).covers(*place)  # the street
    assert not CaseScope.of(Actor("u", staff, "410203")).covers(*place)
    assert CaseScope.of(Actor("u", staff, "410203", "D-WATER")).covers(*place)  # the organisation wins
    assert not CaseScope.of(Actor("u", staff, None, "D-ROADS")).covers(*place)
    assert not CaseScope.of(Actor("u", staff)).covers(*place)  # no scope, nothing
    assert not CaseScope.of(Actor("c", frozenset({Role.CITIZEN}), "410202")).covers(*place)  # own reports only
