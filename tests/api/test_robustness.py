"""Bad input of every kind gets a 4xx with a machine code and a zh-CN message, never a 500, and writes nothing."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import HERE, SUPERVISOR, Api
from tests.api.helpers import upload
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.unit_of_work import SqlUnitOfWork

CJK = re.compile(r"[\u4e00-\u9fff]")


def _case_count(api: Api) -> int:
    with SqlUnitOfWork(api.engine) as uow:
        return sum(uow.cases.count_by("state").values())


def _check(r: object, status: int, code: str) -> dict[str, object]:
    response = r  # an httpx.Response
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and CJK.search(str(body["message"])), body
    assert set(body) == {"code", "message", "details"}
    return body


GOOD = {"kind": "component", "class_code": "01001", "description": "井盖缺失", **HERE}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({**GOOD, "lon": 200}, "request.invalid"),
        ({**GOOD, "lat": -91}, "request.invalid"),
        ({**GOOD, "lon": "东经114"}, "request.invalid"),
        ({**GOOD, "kind": "bridge"}, "request.invalid"),
        ({**GOOD, "surprise": 1}, "request.invalid"),
        ({**GOOD, "description": ""}, "request.invalid"),
        ({**GOOD, "description": "  "}, "request.invalid"),
        ({**GOOD, "class_code": "1; DROP TABLE cases;--"}, "request.invalid"),
        ({**GOOD, "class_code": "99999"}, "case.unknown_class"),
        ({**GOOD, "community_code": "999999999999"}, "case.unknown_community"),
        ({**GOOD, "crs": "epsg:3857"}, "request.invalid"),
        ({**GOOD, "photos": ["not-a-hash"]}, "request.invalid"),
        ([GOOD], "request.invalid"),
        ("just text", "request.invalid"),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(sqlite_api: Api, payload: object, code: str) -> None:
    before = _case_count(sqlite_api)
    r = sqlite_api.post("/api/v1/cases", SUPERVISOR, json=payload)
    _check(r, 422, code)
    assert _case_count(sqlite_api) == before


def test_unknown_field_is_named_in_the_answer(sqlite_api: Api) -> None:
    body = _check(sqlite_api.post("/api/v1/cases", SUPERVISOR, json={**GOOD, "surprise": 1}), 422, "request.invalid")
    assert "surprise" in str(body["message"]) and "不允许" in str(body["message"])


def test_malformed_json_and_wrong_content(sqlite_api: Api) -> None:
    headers = {"Content-Type": "application/json"}
    r = sqlite_api.post("/api/v1/cases", SUPERVISOR, content=b'{"kind": "component",', headers=headers)
    _check(r, 422, "request.bad_json")
    r = sqlite_api.post("/api/v1/cases", SUPERVISOR, content="\xff\xfe".encode("latin-1"), headers=headers)
    assert r.status_code == 422
    r = sqlite_api.post("/api/v1/auth/refresh", content=b"null", headers=headers)
    assert r.status_code == 422


def test_huge_bodies_are_refused_before_parsing(sqlite_api: Api) -> None:
    before = _case_count(sqlite_api)
    big = {**GOOD, "description": "大" * 600_000}
    _check(sqlite_api.post("/api/v1/cases", SUPERVISOR, json=big), 413, "request.too_large")
    chunks = (b"x" * 65536 for _ in range(40))  # streamed without a Content-Length
    r = sqlite_api.post("/api/v1/cases", SUPERVISOR, content=chunks, headers={"Content-Type": "application/json"})
    _check(r, 413, "request.too_large")
    assert _case_count(sqlite_api) == before


def test_sql_looking_text_is_just_text(sqlite_api: Api) -> None:
    evil = "'); DROP TABLE cases; -- 井盖 \" OR 1=1"
    r = sqlite_api.report(description=evil, address=evil, reporter=evil)
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]
    detail = sqlite_api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert detail["description"] == evil.strip() and detail["reporter"] == evil
    r = sqlite_api.get("/api/v1/cases?class_code=01001' OR '1'='1", "acceptor1")
    _check(r, 422, "request.invalid")
    _check(sqlite_api.get("/api/v1/cases/1' OR '1'='1", "acceptor1"), 422, "request.invalid")
    r = sqlite_api.client.post("/api/v1/auth/token", data={"username": "admin' --", "password": "x' OR '1'='1"})
    _check(r, 401, "auth.invalid_credentials")


def test_bad_actions_and_routes(sqlite_api: Api) -> None:
    case_no = sqlite_api.report().json()["case_no"]
    _check(sqlite_api.act(case_no, "close", "shiftleader1"), 409, "case.transition_not_allowed")
    _check(sqlite_api.act(case_no, "accept", "acceptor1", extension="1天"), 422, "request.invalid")
    _check(sqlite_api.act(case_no, "void", "shiftleader1"), 422, "case.reason_required")
    _check(sqlite_api.get("/api/v1/nowhere", "acceptor1"), 404, "http.not_found")
    _check(sqlite_api.client.delete(f"/api/v1/cases/{case_no}", headers=sqlite_api.auth("admin")), 405,
           "http.method_not_allowed")  # fmt: skip
    _check(sqlite_api.get("/api/v1/cases?limit=100000", "acceptor1"), 422, "request.invalid")
    _check(sqlite_api.get("/api/v1/cases?bbox=1,2,3", "acceptor1"), 422, "request.invalid")  # the schema's pattern
    _check(sqlite_api.get("/api/v1/cases?bbox=120,40,110,30", "acceptor1"), 422, "query.bad_bbox")
    detail = sqlite_api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert len(detail["log"]) == 1 and detail["state"] == "reported"


def test_gcj02_coordinates_are_stored_as_wgs84(sqlite_api: Api) -> None:
    gcj_lon, gcj_lat = from_wgs84(HERE["lon"], HERE["lat"], Crs.GCJ02)
    r = sqlite_api.report(lon=gcj_lon, lat=gcj_lat, crs="gcj02")
    assert r.status_code == 201, r.text
    detail = sqlite_api.get(f"/api/v1/cases/{r.json()['case_no']}", "acceptor1").json()
    assert abs(detail["lon"] - HERE["lon"]) < 1e-6 and abs(detail["lat"] - HERE["lat"]) < 1e-6


def test_docs_work_offline(sqlite_api: Api) -> None:
    page = sqlite_api.client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from elsewhere
    spec = sqlite_api.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/cases/{case_no}/dispatch" in spec["paths"]


def test_uploads_over_the_limit_are_refused(sqlite_api: Api) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024)
    _check(upload(sqlite_api, SUPERVISOR, data), 413, "request.too_large")
    assert not sqlite_api.evidence.root.exists() or not any(sqlite_api.evidence.root.rglob("*"))
