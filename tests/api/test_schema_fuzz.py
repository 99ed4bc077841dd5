"""Property-based fuzzing over the whole OpenAPI schema (schemathesis): no request, valid or not, gets a
5xx, every answer matches the schema it documents, and no answer names a case outside the caller's scope.
The caller is a district's dispatcher; cases lie in their district and in the next one, and operations
that take a point are asked about the next district's case. A stateful run follows the schema's links
(report, then act on the case). Bounded to run in a few minutes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import DISTRICT_DISPATCHER, OTHER_SUPERVISOR, THERE, Api
from xiuhua.unit_of_work import SqlUnitOfWork

EXAMPLES = 25
CASE_NO = re.compile(r"(?<![0-9])20[0-9]{12}(?![0-9])")


def scope_check(api: Api, district: str) -> Callable[..., None]:
    """A check: every case number in an answer (but those the request itself named) lies in the district."""

    @schemathesis.check
    def no_case_outside_scope(ctx: Any, response: Any, case: schemathesis.Case) -> None:
        asked = str((case.path_parameters, case.query, case.body))
        named = set(CASE_NO.findall(response.text or "")) - set(CASE_NO.findall(asked))
        if not named:
            return
        with SqlUnitOfWork(api.engine) as uow:
            found = {no: c.location.district_code for no in named if (c := uow.cases.get(no)) is not None}
        leaked = sorted(no for no, code in found.items() if code != district)
        assert not leaked, f"{case.method} {case.path} names cases outside {district}: {leaked}"

    return no_case_outside_scope  # type: ignore[no-any-return]


def checks(api: Api, user: str = DISTRICT_DISPATCHER) -> list[Any]:
    """The checks of every answer; a district's account is also held to its district."""
    district = [scope_check(api, user.removeprefix("dispatcher_"))] if user.startswith("dispatcher_") else []
    return [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
            *district]  # fmt: skip


def user_for(path: str) -> str:
    """Who calls an operation: the administrator for administration, a leader for evaluations (they decide
    appeals), else the district dispatcher."""
    if "/admin/" in path or path.endswith("/password"):
        return "admin"
    return "leader" if path.startswith("/api/v1/evaluations") else DISTRICT_DISPATCHER


def seed(api: Api) -> None:
    """Something to find: a case in the caller's district, and one in the next district."""
    assert api.report().status_code == 201
    assert api.report(OTHER_SUPERVISOR, **THERE).status_code == 201


SKIP = ("/api/v1/events/stream",)  # a stream that stays open; tested in test_stream


def fuzz(api: Api, operation: Any, mode: GenerationMode, user: str, statuses: Counter[int]) -> Callable[[], None]:
    """A Hypothesis test of one operation: its answers are counted by status."""
    names = {p.name for p in operation.query}
    seeded = {"lon": THERE["lon"], "lat": THERE["lat"], "kind": "component", "class_code": "01001"}
    pinned = {k: v for k, v in seeded.items() if k in names} if {"lon", "lat"} <= names else None
    strategy = operation.as_strategy(mode, query=pinned) if pinned and mode is GenerationMode.POSITIVE else None

    @given(case=strategy or operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers={**(case.headers or {}), **api.auth(user)}, checks=checks(api, user))
        statuses[response.status_code] += 1
        if case.path == "/api/v1/auth/logout" and response.status_code == 204:
            api.tokens.pop(user)  # that session is over: log in again for the next call

    return run  # type: ignore[no-any-return]


CONSOLE = "/api/v1/console/"


@pytest.mark.parametrize("part", ["core", "console"])
def test_no_server_errors_and_no_schema_violations(sqlite_api: Api, part: str) -> None:
    """Every operation of the schema, in two parts: the core API, and the web console's read models."""
    seed(sqlite_api)
    schema = schemathesis.openapi.from_asgi("/openapi.json", sqlite_api.client.app)
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path not in SKIP and op.path.startswith(CONSOLE) == (part == "console")
    ]
    assert len(operations) > (40 if part == "core" else 5)
    statuses: Counter[int] = Counter()
    for operation in operations:
        user = user_for(operation.path)
        for mode in GenerationMode:
            try:
                fuzz(sqlite_api, operation, mode, user, statuses)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: an operation without input
    assert statuses[422] > 20  # invalid input was tried
    assert not [code for code in statuses if code >= 500]
    if part == "core":
        assert statuses[200] + statuses[201] + statuses[204] > 40 and statuses[422] > 100
        assert statuses[401] < 100  # only logins and refreshes with made-up credentials


def test_stateful_links_keep_to_the_callers_scope(sqlite_api: Api) -> None:
    """Sequences that follow the schema's links: a report, then its detail and actions on it."""
    api = sqlite_api
    seed(api)
    machine = schemathesis.openapi.from_asgi("/openapi.json", api.client.app).as_state_machine()
    used = checks(api)

    class Calls(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": {**(case.headers or {}), **api.auth(DISTRICT_DISPATCHER)}}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=used)

    Calls.run(settings=settings(max_examples=EXAMPLES, stateful_step_count=5, deadline=None, database=None,
                                suppress_health_check=list(HealthCheck)))  # fmt: skip
