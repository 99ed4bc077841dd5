"""Small builders shared by the API tests: images, district staff, cases moved to a given state."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.api.conftest import DISTRICT_DISPATCHER, PASSWORD, SUPERVISOR, Api

WATER = "91410204BHJ5Q4X12M"  # the water company: 供水井盖 city-wide
HANDLER = "handler_" + WATER.lower()
OTHER_HANDLER = "handler_11410202p6aa8mk023"  # 龙亭区城市管理局
SUPERVISION_CENTER = "12410202D92N8X1B21"


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(api: Api, user: str, data: bytes, name: str = "p.png", content_type: str = "image/png") -> Any:
    return api.post("/api/v1/evidence", user, files={"file": (name, data, content_type)})


def photo(api: Api, user: str, color: tuple[int, int, int] = (200, 30, 30)) -> str:
    r = upload(api, user, png(color))
    assert r.status_code == 201, r.text
    return str(r.json()["sha256"])


def add_district_staff(api: Api) -> None:
    """Command-center roles scoped to another district (顺河回族区 410203), with logins."""
    rows = [
        {"username": "acceptor_410203", "name": "顺河受理员", "roles": "受理员", "scope": "410203"},
        {"username": "shift_410203", "name": "顺河值班长", "roles": "值班长", "scope": "410203"},
        {"username": "leader_410203", "name": "顺河领导", "roles": "领导", "scope": "410203"},
    ]
    for row in rows:
        row["organization_code"] = SUPERVISION_CENTER
    r = api.client.put("/api/v1/admin/tables/staff", headers=api.auth("admin"), json={"rows": rows})
    assert r.status_code == 200, r.text
    for row in rows:
        r = api.client.put(
            f"/api/v1/admin/staff/{row['username']}/password", headers=api.auth("admin"), json={"password": PASSWORD}
        )
        assert r.status_code == 204, r.text


def step(api: Api, case_no: str, action: str, user: str, **body: Any) -> Any:
    r = api.act(case_no, action, user, **body)
    assert r.status_code == 200, f"{action} by {user}: {r.text}"
    return r.json()


PATHS: dict[str, list[tuple[str, str, str]]] = {
    # state: the steps that lead there from a supervisor's report (or, for p_*, a hotline report)
    "reported": [],
    "accepted": [("accept", "acceptor1", "")],
    "filed": [("accept", "acceptor1", ""), ("file", "shiftleader1", "standard")],
    "dispatched": [("accept", "acceptor1", ""), ("file", "shiftleader1", "standard"),
                   ("dispatch", DISTRICT_DISPATCHER, "")],
}  # fmt: skip
PATHS["return_requested"] = [*PATHS["dispatched"], ("return", HANDLER, "reason")]
PATHS["extension_requested"] = [*PATHS["dispatched"], ("request_extension", HANDLER, "extension")]
PATHS["park_requested"] = [*PATHS["dispatched"], ("request_park", HANDLER, "reason")]
PATHS["parked"] = [*PATHS["park_requested"], ("approve", DISTRICT_DISPATCHER, "")]
PATHS["disposed"] = [*PATHS["dispatched"], ("feedback", HANDLER, "photo")]
PATHS["checking"] = [*PATHS["disposed"], ("send_check", "acceptor1", "")]
PATHS["checked_pass"] = [*PATHS["checking"], ("check_pass", SUPERVISOR, "")]
PATHS["checked_fail"] = [*PATHS["checking"], ("check_fail", SUPERVISOR, "reason")]
PATHS["p_reported"] = []
PATHS["verifying"] = [("send_verify", "acceptor1", "")]


def body_for(api: Api, kind: str, user: str) -> dict[str, Any]:
    if kind == "standard":
        return {"standard_id": api.standard_id()}
    if kind == "reason":
        return {"reason": "测试原因"}
    if kind == "extension":
        return {"reason": "材料未到", "extension": "1工作日"}
    if kind == "photo":
        return {"photos": [photo(api, user)]}
    return {}


def case_in(api: Api, state: str) -> str:
    """A new case in ``state``, reached through the API by the users whose job each step is."""
    public = state in ("p_reported", "verifying")
    r = (
        api.report("acceptor1", source="hotline", reporter="王女士", reporter_phone="13800001111")
        if public
        else api.report()
    )
    assert r.status_code == 201, r.text
    case_no = str(r.json()["case_no"])
    for action, user, kind in PATHS[state]:
        step(api, case_no, action, user, **body_for(api, kind, user))
    return case_no
