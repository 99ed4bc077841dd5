"""Role × action × scope: each workflow action through the API by the role it belongs to (allowed), by a
role it does not (403, nothing written) and by the right role outside the case's scope (404, exactly as
if the case did not exist)."""

from __future__ import annotations

import pytest

from tests.api.conftest import DISTRICT_DISPATCHER, OTHER_SUPERVISOR, SUPERVISOR, THERE, Api
from tests.api.helpers import HANDLER, OTHER_HANDLER, add_district_staff, body_for, case_in

OTHER_DISPATCHER = "dispatcher_410203"
MATRIX = [
    # (start state, action, body, allowed, wrong role in scope, right role out of scope, state after)
    ("reported", "accept", "", "acceptor1", SUPERVISOR, "acceptor_410203", "accepted"),
    ("p_reported", "send_verify", "", "acceptor1", DISTRICT_DISPATCHER, "acceptor_410203", "verifying"),
    ("verifying", "verify", "", SUPERVISOR, "acceptor1", OTHER_SUPERVISOR, "accepted"),
    ("verifying", "refute", "reason", SUPERVISOR, "acceptor1", OTHER_SUPERVISOR, "accepted"),
    ("reported", "void", "reason", "shiftleader1", SUPERVISOR, "shift_410203", "voided"),
    ("accepted", "file", "standard", "shiftleader1", "acceptor1", "shift_410203", "filed"),
    ("filed", "dispatch", "", DISTRICT_DISPATCHER, "shiftleader1", OTHER_DISPATCHER, "dispatched"),
    ("filed", "return", "reason", DISTRICT_DISPATCHER, "acceptor1", OTHER_DISPATCHER, "accepted"),
    ("dispatched", "feedback", "photo", HANDLER, DISTRICT_DISPATCHER, OTHER_HANDLER, "disposed"),
    ("dispatched", "return", "reason", HANDLER, DISTRICT_DISPATCHER, OTHER_HANDLER, "return_requested"),
    ("dispatched", "request_extension", "extension", HANDLER, "acceptor1", OTHER_HANDLER, "extension_requested"),
    ("dispatched", "request_park", "reason", HANDLER, "leader", OTHER_HANDLER, "park_requested"),
    ("dispatched", "urge", "reason", "leader", HANDLER, "leader_410203", "dispatched"),
    ("return_requested", "approve", "", DISTRICT_DISPATCHER, HANDLER, OTHER_DISPATCHER, "filed"),
    ("extension_requested", "approve", "", DISTRICT_DISPATCHER, HANDLER, OTHER_DISPATCHER, "dispatched"),
    ("extension_requested", "reject", "reason", DISTRICT_DISPATCHER, HANDLER, OTHER_DISPATCHER, "dispatched"),
    ("parked", "resume", "reason", DISTRICT_DISPATCHER, HANDLER, OTHER_DISPATCHER, "dispatched"),
    ("disposed", "send_check", "", "acceptor1", HANDLER, "acceptor_410203", "checking"),
    ("checking", "check_pass", "", SUPERVISOR, "acceptor1", OTHER_SUPERVISOR, "checked"),
    ("checking", "check_fail", "reason", SUPERVISOR, "acceptor1", OTHER_SUPERVISOR, "checked"),
    ("checked_pass", "close", "", "shiftleader1", DISTRICT_DISPATCHER, "shift_410203", "closed"),
    ("checked_fail", "rework", "reason", DISTRICT_DISPATCHER, SUPERVISOR, OTHER_DISPATCHER, "dispatched"),
]


def _log_length(api: Api, case_no: str) -> int:
    return len(api.get(f"/api/v1/cases/{case_no}", "admin").json()["log"])


@pytest.mark.parametrize(
    ("start", "action", "body", "allowed", "wrong_role", "outsider", "after"),
    MATRIX,
    ids=[f"{m[0]}-{m[1]}" for m in MATRIX],
)
def test_action_by_role_and_scope(
    api: Api, start: str, action: str, body: str, allowed: str, wrong_role: str, outsider: str, after: str
) -> None:
    add_district_staff(api)
    case_no = case_in(api, start)
    before = _log_length(api, case_no)
    missing = api.act("20990101999999", action, outsider, **body_for(api, body, outsider))

    out_of_scope = api.act(case_no, action, outsider, **body_for(api, body, outsider))
    assert out_of_scope.status_code == 404, out_of_scope.text
    assert out_of_scope.json()["code"] == missing.json()["code"] == "case.not_found"
    assert api.get(f"/api/v1/cases/{case_no}", outsider).status_code == 404

    denied = api.act(case_no, action, wrong_role, **body_for(api, body, wrong_role))
    assert denied.status_code == 403, denied.text
    assert denied.json()["code"] == "case.role_denied"
    assert _log_length(api, case_no) == before  # nothing written by either refusal

    done = api.act(case_no, action, allowed, **body_for(api, body, allowed))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == after
    detail = api.get(f"/api/v1/cases/{case_no}", "admin").json()
    assert detail["state"] == after and len(detail["log"]) == before + 1
    assert detail["log"][-1]["action"] == action and detail["log"][-1]["actor"] == allowed


def test_citizens_act_on_nothing_and_see_only_their_own_reports(api: Api) -> None:
    own = api.report("citizen_wang", source="supervisor", reporter="冒名", reporter_phone="10000000000")
    assert own.status_code == 201, own.text
    own_no = own.json()["case_no"]
    other_no = case_in(api, "reported")
    assert api.act(own_no, "accept", "citizen_wang").json()["code"] == "auth.staff_only"
    assert api.get(f"/api/v1/cases/{own_no}", "citizen_wang").status_code == 200
    assert api.get(f"/api/v1/cases/{own_no}", "citizen_li").status_code == 404
    assert api.get(f"/api/v1/cases/{other_no}", "citizen_wang").json()["code"] == "case.not_found"
    listed = api.get("/api/v1/cases", "citizen_wang").json()["items"]
    assert [c["case_no"] for c in listed] == [own_no]
    assert listed[0]["source"] == "public"  # a citizen's report is public whatever the body says
    assert api.get("/api/v1/cases", "citizen_li").json()["items"] == []
    assert api.get("/api/v1/tasks", "citizen_wang").json()["code"] == "auth.staff_only"


def test_lists_and_queues_keep_to_the_scope(api: Api) -> None:
    here = case_in(api, "dispatched")  # 龙亭区, water company
    there = api.report("acceptor1", **THERE)
    assert there.status_code == 201, there.text
    there_no = there.json()["case_no"]

    def listed(user: str) -> set[str]:
        return {c["case_no"] for c in api.get("/api/v1/cases?limit=200", user).json()["items"]}

    assert {here, there_no} <= listed("dispatcher1")  # the city's dispatcher sees the whole city
    assert here in listed(DISTRICT_DISPATCHER) and there_no not in listed(DISTRICT_DISPATCHER)
    assert there_no in listed(OTHER_DISPATCHER) and here not in listed(OTHER_DISPATCHER)
    assert listed(HANDLER) == {here} and listed(OTHER_HANDLER) == set()
    assert [c["case_no"] for c in api.get("/api/v1/tasks", HANDLER).json()] == [here]
    assert api.get("/api/v1/tasks", OTHER_HANDLER).json() == []
    queue = api.get("/api/v1/tasks", "acceptor1").json()
    assert [c["case_no"] for c in queue] == [there_no]  # the other one is past the acceptor's steps
    assert queue[0]["seconds_left"] is not None and queue[0]["seconds_left"] > 0


def test_admin_endpoints_refuse_other_roles(api: Api) -> None:
    body = {"rows": [{"day": "2026-05-06", "workday": "否", "reason": "测试"}]}
    for user in ("dispatcher1", "leader", "citizen_wang"):
        r = api.client.put("/api/v1/admin/tables/calendar_days", headers=api.auth(user), json=body)
        assert r.status_code == 403, r.text
    r = api.client.put("/api/v1/admin/tables/calendar_days", headers=api.auth("admin"), json=body)
    assert r.status_code == 200 and r.json()["written"] == 1
    table = api.get("/api/v1/tables/calendar_days", "dispatcher1").json()
    assert ["2026-05-06", "否", "测试"] in [row[:3] for row in table["rows"]] or any(
        row[0] == "2026-05-06" for row in table["rows"]
    )
    audit = api.get("/api/v1/admin/audit?action=admin.", "admin").json()
    assert any(a["action"] == "admin.import.calendar_days" and a["actor"] == "admin" for a in audit)
    denied = api.get("/api/v1/admin/audit?action=access.denied", "admin").json()
    assert {a["actor"] for a in denied} >= {"dispatcher1", "leader", "citizen_wang"}
