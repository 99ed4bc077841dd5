"""Reports from careless or hostile callers: keys reused across callers or bodies, coordinates that disagree
with the community, sources claimed by the wrong role, reports outside one's area, other districts' cases
in duplicate suggestions, private photos through Open311, ids beyond any table, dispatch beyond jurisdiction."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from tests.api.conftest import DISTRICT_DISPATCHER, HERE, OTHER_SUPERVISOR, SUPERVISOR, THERE, Api
from tests.api.helpers import case_in, photo, step
from tests.api.test_open311 import V2, api_key, form, open311_error
from xiuhua.cases.domain.commands import ReportCase
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.lifecycle import report_case
from xiuhua.cases.services.policy import load_policy
from xiuhua.config import get_settings
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db.engine import alembic_config, make_engine
from xiuhua.unit_of_work import SqlUnitOfWork

SHUNHE_DEPARTMENT = "11410203JN6XD1HJ09"  # 顺河回族区城市管理局
LONGTING_DEPARTMENT = "11410202P6AA8MK023"  # 龙亭区城市管理局
XIANGFU_COMMUNITY = "410212101001"  # a community of 祥符区


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def _cases(api: Api) -> int:
    with SqlUnitOfWork(api.engine) as uow:
        return sum(uow.cases.count_by("state").values())


def _report(api: Api, user: str, key: str, **overrides: Any) -> Any:
    body = {"kind": "component", "class_code": "01001", "description": "井盖缺失，有安全隐患", **HERE, **overrides}
    return api.post("/api/v1/cases", user, headers={"Idempotency-Key": key}, json=body)


def _system_report(api: Api, key: str) -> bool:
    """A sensor alarm's case as the sensing intake opens it; whether a new case was opened."""
    uow = SqlUnitOfWork(api.engine)
    where = Location(HERE["lon"], HERE["lat"], "传感器", "410202", "410202001", HERE["community_code"])
    cmd = ReportCase(SYSTEM_ACTOR, Source.SENSOR, ClassKind.COMPONENT, "01001", where, "井盖位移告警",
                     idempotency_key=key)  # fmt: skip
    return report_case(cmd, uow, api.clock, load_policy(uow, holidays.statutory_days)).created


# ----- 2. idempotency keys ------------------------------------------------------------------------
def test_a_citizens_key_cannot_capture_a_sensor_alarm(api: Api) -> None:
    r = _report(api, "citizen_wang", "sensing-alarm-1")
    assert r.status_code == 201, r.text
    assert _system_report(api, "sensing-alarm-1")  # the alarm opens its own case
    assert not _system_report(api, "sensing-alarm-1")  # and a retry of the alarm finds it


def test_keys_belong_to_their_caller(api: Api) -> None:
    mine = _report(api, SUPERVISOR, "k-1")
    theirs = _report(api, OTHER_SUPERVISOR, "k-1", class_code="01002", description="雨水井盖破损", **THERE)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert mine.json()["case_no"] != theirs.json()["case_no"]


def test_the_same_key_for_another_report_is_refused(api: Api) -> None:
    first = _report(api, SUPERVISOR, "k-2")
    assert first.status_code == 201
    again = _report(api, SUPERVISOR, "k-2")
    assert (again.status_code, again.json()["case_no"]) == (200, first.json()["case_no"])
    before = _cases(api)
    other = _report(api, SUPERVISOR, "k-2", description="另一处路灯不亮")
    body = _error(other, 422, "case.idempotency_key_reused")
    assert body["details"]["case_no"] == first.json()["case_no"]
    assert _cases(api) == before


def test_open311_keys_are_per_client_and_per_report(sqlite_api: Api) -> None:
    key = api_key(sqlite_api)
    first = sqlite_api.client.post(f"{V2}/requests.json", data=form(key, idempotency_key="app-1"))
    assert first.status_code == 201, first.text
    changed = sqlite_api.client.post(f"{V2}/requests.json", data=form(key, idempotency_key="app-1", description="别的"))
    assert changed.status_code == 400 and changed.json()[0]["xiuhua_code"] == "case.idempotency_key_reused"


def test_keys_stored_before_scoping_still_find_their_case(tmp_path: Path, sqlite_template: Path) -> None:
    """A database from before keys were scoped: its keys are rewritten in their caller's scope on upgrade."""
    path = tmp_path / "old.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    uow = SqlUnitOfWork(engine)
    policy = load_policy(uow, holidays.statutory_days)
    from tests.api.conftest import START
    from xiuhua.kernel.clock import FakeClock
    from xiuhua.org.services.actors import load_actor

    where = Location(HERE["lon"], HERE["lat"], "x", "410202", "410202001", HERE["community_code"])
    actor = load_actor(uow, SUPERVISOR)
    cmd = ReportCase(actor, Source.SUPERVISOR, ClassKind.COMPONENT, "01001", where, "井盖缺失", idempotency_key="old-1")
    case_no = report_case(cmd, uow, FakeClock(START), policy).case_no
    command.downgrade(alembic_config(engine), "0011")
    with engine.begin() as conn:  # as the code of that revision stored it
        conn.execute(text("UPDATE cases SET idempotency_key = 'old-1' WHERE case_no = :no"), {"no": case_no})
    command.upgrade(alembic_config(engine), "head")
    again = report_case(cmd, SqlUnitOfWork(engine), FakeClock(START), policy)
    assert (again.case_no, again.created) == (case_no, False)
    engine.dispose()


# ----- 4. coordinates decide the place -------------------------------------------------------------
@pytest.mark.parametrize(("lon", "lat"), [(0, 0), (114.35, -58.8), (116.4, 39.9)])
def test_points_outside_the_city_are_refused(sqlite_api: Api, lon: float, lat: float) -> None:
    before = _cases(sqlite_api)
    _error(sqlite_api.report(lon=lon, lat=lat), 422, "geo.outside")
    _error(sqlite_api.report(lon=lon, lat=lat, community_code=None), 422, "geo.outside")
    assert _cases(sqlite_api) == before


def test_a_community_that_does_not_contain_the_point_is_refused(api: Api) -> None:
    body = _error(api.report(community_code=XIANGFU_COMMUNITY), 422, "case.community_mismatch")
    assert body["details"]["located_code"] == HERE["community_code"] and "不在所填社区" in body["message"]
    r = api.report(community_code=None)  # located from the point alone
    assert r.status_code == 201, r.text
    detail = api.get(f"/api/v1/cases/{r.json()['case_no']}", "acceptor1").json()
    assert (detail["district_code"], detail["community_code"]) == ("410202", HERE["community_code"])


def test_the_command_line_locates_reports_too(sqlite_template: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from typer.testing import CliRunner

    from xiuhua.entrypoints.cli.main import app

    shutil.copy(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    get_settings.cache_clear()
    runner = CliRunner()
    base = ["case", "report", "--as", SUPERVISOR, "--code", "01001", "--description", "井盖缺失", "--address", "某处"]
    try:
        outside = runner.invoke(app, [*base, "--lon", "0", "--lat", "0", "--community", HERE["community_code"]])
        assert outside.exit_code == 2 and "geo.outside" in outside.stderr
        wrong = runner.invoke(app, [*base, "--lon", str(HERE["lon"]), "--lat", str(HERE["lat"]),
                                    "--community", XIANGFU_COMMUNITY])  # fmt: skip
        assert wrong.exit_code == 2 and "case.community_mismatch" in wrong.stderr
        here = ["--lon", str(HERE["lon"]), "--lat", str(HERE["lat"])]
        claimed = runner.invoke(app, [*base, *here, "--source", "leader"])
        assert claimed.exit_code == 1 and "case.source_not_allowed" in claimed.stderr
        ok = runner.invoke(app, [*base, *here])
        assert ok.exit_code == 0, ok.stderr
    finally:
        get_settings.cache_clear()


# ----- 7. who reports decides the source and the area ----------------------------------------------
@pytest.mark.parametrize(("user", "source"), [(SUPERVISOR, "leader"), (SUPERVISOR, "sensor"),
                                              ("acceptor1", "supervisor"), ("acceptor1", "video"),
                                              ("leader", "hotline"), ("admin", "public")])  # fmt: skip
def test_a_role_claims_only_its_own_sources(sqlite_api: Api, user: str, source: str) -> None:
    before = _cases(sqlite_api)
    _error(sqlite_api.report(user, source=source), 403, "case.source_not_allowed")
    assert _cases(sqlite_api) == before


def test_sources_follow_the_reporter(api: Api) -> None:
    expected = {SUPERVISOR: "supervisor", "acceptor1": "hotline", "leader": "leader", "citizen_wang": "public"}
    for user, source in expected.items():
        r = api.report(user)
        assert r.status_code == 201, r.text
        assert api.get(f"/api/v1/cases/{r.json()['case_no']}", "acceptor1").json()["source"] == source
    assert api.report("shiftleader1", source="leader").status_code == 201  # records a leader's instruction


def test_a_supervisor_reports_only_inside_their_area(api: Api) -> None:
    before = _cases(api)
    body = _error(api.report(SUPERVISOR, **THERE), 403, "case.outside_your_area")
    assert body["details"]["community_code"] == THERE["community_code"]
    assert _cases(api) == before
    assert api.report(OTHER_SUPERVISOR, **THERE).status_code == 201


# ----- 9. duplicate suggestions keep to the caller's scope ------------------------------------------
def test_duplicate_suggestions_keep_to_the_callers_scope(api: Api) -> None:
    there = api.report(OTHER_SUPERVISOR, **THERE).json()["case_no"]
    query = f"/api/v1/cases/duplicates?kind=component&class_code=01001&lon={THERE['lon']}&lat={THERE['lat']}"
    assert [d["case_no"] for d in api.get(query, "dispatcher1").json()] == [there]  # city-wide
    assert api.get(query, DISTRICT_DISPATCHER).json() == []  # 龙亭区 does not see 顺河回族区
    assert api.get(query, "dispatcher_410203").json()[0]["case_no"] == there


# ----- 5. Open311 serves only the photos of public reports ------------------------------------------
def test_open311_media_is_only_the_photos_of_public_reports(api: Api) -> None:
    sha = photo(api, SUPERVISOR)
    r = api.report(photos=[sha])
    assert r.status_code == 201, r.text
    open311_error(api.client.get(f"{V2}/media/{sha}"), 404, "open311.unknown_media")
    listed = api.client.get(f"{V2}/requests/{r.json()['case_no']}.json").json()[0]
    assert not listed.get("media_url")
    staff = api.get(f"/api/v1/cases/{r.json()['case_no']}/photos/{sha}", "acceptor1")
    assert staff.status_code == 200 and staff.content.startswith(b"\x89PNG")
    assert api.client.get(f"/api/v1/cases/{r.json()['case_no']}/photos/{sha}").status_code == 401
    public_sha = photo(api, "citizen_wang", (1, 2, 3))
    citizen = api.report("citizen_wang", photos=[public_sha], lon=HERE["lon"] + 0.004)
    assert citizen.status_code == 201, citizen.text
    assert api.client.get(f"{V2}/media/{public_sha}").status_code == 200


# ----- 8. ids beyond any table ---------------------------------------------------------------------
@pytest.mark.parametrize("appeal", ["9223372036854775808", "2147483648", "-1", "0"])
def test_ids_beyond_any_table_are_refused(sqlite_api: Api, appeal: str) -> None:
    r = sqlite_api.post(f"/api/v1/evaluations/appeals/{appeal}/decision", "leader",
                        json={"approve": True, "reason": "同意"})  # fmt: skip
    _error(r, 422, "request.invalid")


def test_every_integer_in_the_schema_is_bounded(sqlite_api: Api) -> None:
    """Every integer a client may send (path, query, header, body) has a minimum and a maximum that both
    databases can hold: nothing reaches SQL that overflows it."""
    spec = sqlite_api.client.get("/openapi.json").json()
    schemas = spec.get("components", {}).get("schemas", {})
    unbounded: list[str] = []

    def visit(schema: dict[str, Any], where: str) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                visit(schemas[name], name)
            return
        if schema.get("type") == "integer" and not (
            "maximum" in schema and "minimum" in schema and -(2**31) <= schema["minimum"] <= schema["maximum"] < 2**31
        ):
            unbounded.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(schema.get(key, [])):
                visit(sub, f"{where}[{i}]")
        for name, sub in schema.get("properties", {}).items():
            visit(sub, f"{where}.{name}")
        if isinstance(schema.get("items"), dict):
            visit(schema["items"], f"{where}[]")

    seen: set[str] = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                visit(parameter.get("schema", {}), f"{method.upper()} {path} {parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                visit(media.get("schema", {}), f"{method.upper()} {path} body")
    assert unbounded == []


# ----- dispatch within jurisdiction ----------------------------------------------------------------
def test_dispatch_stays_within_the_departments_jurisdiction(api: Api) -> None:
    case_no = case_in(api, "filed")  # a case in 龙亭区
    body = _error(api.act(case_no, "dispatch", DISTRICT_DISPATCHER, department_code=SHUNHE_DEPARTMENT), 403,
                  "case.outside_jurisdiction")  # fmt: skip
    assert "顺河回族区城市管理局" in body["message"]
    _error(api.act(case_no, "dispatch", "dispatcher1", department_code=SHUNHE_DEPARTMENT), 403,
           "case.outside_jurisdiction")  # fmt: skip
    detail = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert detail["state"] == "filed"
    reason = "龙亭区局设备检修，临时代管"
    done = step(api, case_no, "dispatch", "dispatcher1", department_code=SHUNHE_DEPARTMENT, reason=reason)
    assert done["department_code"] == SHUNHE_DEPARTMENT
    log = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()["log"][-1]
    assert log["reason"] == reason and log["data"]["outside_jurisdiction"] is True
    other = case_in(api, "filed")
    assert step(api, other, "dispatch", DISTRICT_DISPATCHER, department_code=LONGTING_DEPARTMENT)["state"]
