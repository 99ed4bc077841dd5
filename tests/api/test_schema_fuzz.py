"""Property-based fuzzing over the whole OpenAPI schema (schemathesis): no request, valid or not, gets a
5xx, and every answer matches the schema it documents. Bounded to run in about a minute."""

from __future__ import annotations

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

from tests.api.conftest import Api

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = 10
SKIP = ("/api/v1/events/stream",)  # a stream that stays open; tested in test_stream


def fuzz(api: Api, operation: Any, mode: GenerationMode, user: str, statuses: Counter[int]) -> Callable[[], None]:
    """A Hypothesis test of one operation: its answers are counted by status."""

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers={**(case.headers or {}), **api.auth(user)}, checks=CHECKS)
        statuses[response.status_code] += 1
        if case.path == "/api/v1/auth/logout" and response.status_code == 204:
            api.tokens.pop(user)  # that session is over: log in again for the next call

    return run  # type: ignore[no-any-return]


CONSOLE = "/api/v1/console/"


@pytest.mark.parametrize("part", ["core", "console"])
def test_no_server_errors_and_no_schema_violations(sqlite_api: Api, part: str) -> None:
    """Every operation of the schema, in two parts: the core API, and the web console's read models."""
    sqlite_api.report()  # something to find
    schema = schemathesis.openapi.from_asgi("/openapi.json", sqlite_api.client.app)
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path not in SKIP and op.path.startswith(CONSOLE) == (part == "console")
    ]
    assert len(operations) > (40 if part == "core" else 5)
    statuses: Counter[int] = Counter()
    for operation in operations:
        user = "admin" if "/admin/" in operation.path or operation.path.endswith("/password") else "dispatcher1"
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
