"""Evaluation over the API: the whole result in three formats, hot-spot drill-down, freezing and appeals."""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import quote

from openpyxl import load_workbook

from tests.api.conftest import DISTRICT_DISPATCHER, SH, SUPERVISOR, Api
from tests.api.helpers import HANDLER, WATER, photo, step

OTHER_DEPARTMENT = "11410202P6AA8MK023"


def _closed_case(api: Api, late: bool) -> str:
    """A case reported, filed, dispatched to the water company, disposed (late: after 3 hours) and closed."""
    case_no = api.report().json()["case_no"]
    step(api, case_no, "accept", "acceptor1")
    step(api, case_no, "file", "shiftleader1", standard_id=api.standard_id())
    step(api, case_no, "dispatch", DISTRICT_DISPATCHER)
    api.clock.advance(minutes=180 if late else 30)
    step(api, case_no, "feedback", HANDLER, photos=[photo(api, HANDLER, (0, 200, 0))])
    step(api, case_no, "send_check", "acceptor1")
    step(api, case_no, "check_pass", SUPERVISOR)
    step(api, case_no, "close", "shiftleader1")
    return case_no


def test_the_whole_result_in_json_xlsx_and_html_and_a_hotspot_drills_down(api: Api) -> None:
    on_time, late = _closed_case(api, late=False), _closed_case(api, late=True)
    r = api.get("/api/v1/evaluations/2026-03?trend=2", "leader")
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["cases"] == 2 and result["trend_periods"] == ["2026-01", "2026-02", "2026-03"]
    water = next(o for o in result["objects"]["department"] if o["code"] == WATER)
    assert water["values"]["close_rate"] == 1.0 and water["values"]["on_time_disposal_rate"] == 0.5
    (spot,) = result["hotspots"]  # both reports at the same place, same class
    assert spot["cases"] == 2
    cases = api.get(f"/api/v1/evaluations/2026-03/hotspots/{quote(spot['key'], safe='')}", "leader").json()
    assert cases["case_nos"] == sorted([on_time, late])

    book = api.get("/api/v1/evaluations/2026-03?format=xlsx", "leader")
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="evaluation-2026-03.xlsx"' in book.headers["content-disposition"]
    sheets = load_workbook(io.BytesIO(book.content)).sheetnames
    assert sheets == ["区", "街道", "社区", "单元网格", "专业部门", "监督员", "受理员", "值班长", "派遣员"]
    page = api.get("/api/v1/evaluations/2026-03?format=html", "leader")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "专业部门" in page.text and "<script" not in page.text


def test_evaluation_checks_roles_and_periods(api: Api) -> None:
    denied = api.get("/api/v1/evaluations/2026-03", SUPERVISOR)
    assert denied.status_code == 403 and denied.json()["code"] == "auth.role_denied"
    bad = api.get("/api/v1/evaluations/2026-13", "leader")  # refused by the schema's pattern
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"
    bad = api.get("/api/v1/evaluations/2026-02-30", "leader")  # of the right shape, but no such day
    assert bad.status_code == 422 and bad.json()["code"] == "evaluation.bad_period"
    assert api.get("/api/v1/evaluations/2026-03?format=pdf", "leader").status_code == 422


def test_freeze_appeal_and_decision_leave_an_audit_trail(api: Api) -> None:
    late = _closed_case(api, late=True)
    early = api.post("/api/v1/evaluations/2026-03/freeze", "admin")
    assert early.status_code == 409 and early.json()["code"] == "evaluation.period_open"
    api.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=SH))
    frozen = api.post("/api/v1/evaluations/2026-03/freeze", "admin")
    assert frozen.status_code == 201 and frozen.json()["revision"] == 1
    again = api.post("/api/v1/evaluations/2026-03/freeze", "admin")
    assert again.status_code == 409 and again.json()["code"] == "evaluation.already_frozen"

    body = {
        "department": WATER,
        "indicator": "on_time_disposal_rate",
        "case_no": late,
        "reason": "暴雨封路，无法按时到场",
    }
    other = api.post("/api/v1/evaluations/2026-03/appeals", HANDLER, json={**body, "department": OTHER_DEPARTMENT})
    assert other.status_code == 403 and other.json()["code"] == "evaluation.not_your_department"
    filed = api.post("/api/v1/evaluations/2026-03/appeals", HANDLER, json=body)
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["appeal_id"]
    by_handler = api.post(f"/api/v1/evaluations/appeals/{appeal_id}/decision", HANDLER,
                          json={"approve": True, "reason": "同意"})  # fmt: skip
    assert by_handler.status_code == 403
    decided = api.post(f"/api/v1/evaluations/appeals/{appeal_id}/decision", "leader",
                       json={"approve": True, "reason": "情况属实"})  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json() | {"appeal_id": 0} == {"appeal_id": 0, "status": "approved", "revision": 2, "before": 0.0,
                                                 "after": None}  # fmt: skip
    result = api.get("/api/v1/evaluations/2026-03", "leader").json()
    assert result["revision"] == 2 and result["excused"] == [["department", WATER, "on_time_disposal_rate", late]]
    trail = api.get("/api/v1/evaluations/2026-03/audit", "leader").json()
    assert [row["action"] for row in trail] == ["freeze", "appeal", "approve"]
    assert trail[2]["before_sha256"] == frozen.json()["sha256"] != trail[2]["after_sha256"]
