"""The console's own read models and the citizen's rating, over HTTP against the running server."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Site

HERE = {"lon": 114.34902, "lat": 34.81873, "address": "龙亭公园东门"}


def get(site: Site, path: str, user: str) -> Any:
    return site.http.get(path, headers={"Authorization": f"Bearer {site.token(user)}"})


def post(site: Site, path: str, user: str, body: dict[str, Any]) -> Any:
    return site.http.post(path, json=body, headers={"Authorization": f"Bearer {site.token(user)}"})


def test_figures_are_limited_to_the_viewers_scope(site: Site) -> None:
    city = site.call("GET", "/api/v1/console/figures", "leader")
    district = site.call("GET", "/api/v1/console/figures", "dispatcher_410203")
    assert {"reported", "filed", "dispatched", "closed", "overdue", "on_time_rate"} <= city.keys()
    assert len(city["districts"]) >= 2
    assert [d["code"] for d in district["districts"]] in ([], ["410203"])
    assert sum(d["open"] for d in district["districts"]) <= sum(d["open"] for d in city["districts"])
    assert get(site, "/api/v1/console/figures", "citizen_demo").status_code == 403


def test_locate_snaps_to_a_grid_and_nearby_counts_open_cases(site: Site) -> None:
    where = "lon=114.34902&lat=34.81873"
    place = site.call("GET", f"/api/v1/console/locate?{where}&class_code=01001", "supervisor_410202001")
    assert place["district_code"] == "410202" and place["grid_code"].startswith(place["community_code"])
    body = {"kind": "matter", "class_code": "06010", "description": "暴露垃圾（重复提示测试）", **HERE}
    before = site.call(
        "GET", "/api/v1/console/nearby?kind=matter&class_code=06010&lon=114.34902&lat=34.81873", "citizen_demo"
    )
    site.call("POST", "/api/v1/cases", "supervisor_410202001", json=body)
    after = site.call(
        "GET", "/api/v1/console/nearby?kind=matter&class_code=06010&lon=114.34902&lat=34.81873", "citizen_demo"
    )
    assert after["count"] == before["count"] + 1 and after["nearest_metres"] < 5
    bad = get(site, "/api/v1/console/locate?lon=200&lat=34.8", "supervisor_410202001")
    assert bad.status_code == 422


def test_a_rating_needs_the_citizens_own_closed_case_and_is_given_once(site: Site) -> None:
    body = {"kind": "matter", "class_code": "07001", "description": "小广告（评价测试）", **HERE}
    case_no = site.call("POST", "/api/v1/cases", "citizen_demo", json=body)["case_no"]
    early = post(site, f"/api/v1/console/cases/{case_no}/rating", "citizen_demo", {"score": 4})
    assert early.status_code == 409 and early.json()["code"] == "rating.not_closed"
    assert "结案" in early.json()["message"]
    staff = post(site, f"/api/v1/console/cases/{case_no}/rating", "leader", {"score": 4})
    assert staff.status_code == 403 and staff.json()["code"] == "rating.citizen_only"
    assert post(site, f"/api/v1/console/cases/{case_no}/rating", "citizen_demo", {"score": 9}).status_code == 422
    missing = get(site, f"/api/v1/console/cases/{case_no}/rating", "citizen_demo")
    assert missing.status_code == 404 and missing.json()["code"] == "rating.not_found"


def test_suggestion_and_standards_follow_the_case(site: Site) -> None:
    body = {"kind": "component", "class_code": "01001", "description": "井盖缺失（建议测试）", **HERE}
    case_no = site.call("POST", "/api/v1/cases", "supervisor_410202001", json=body)["case_no"]
    suggested = site.call("GET", f"/api/v1/console/cases/{case_no}/suggestion", "dispatcher_410202")
    assert suggested["department_code"] and suggested["department_name"]
    standards = site.call("GET", f"/api/v1/console/cases/{case_no}/standards", "shiftleader1")
    assert standards and all(s["id"] and s["filing_condition"] for s in standards)
    denied = get(site, f"/api/v1/console/cases/{case_no}/suggestion", "dispatcher_410203")
    assert denied.status_code in (403, 404)
    codes = {d["code"] for d in site.call("GET", "/api/v1/console/departments", "dispatcher_410202")}
    assert suggested["department_code"] in codes
