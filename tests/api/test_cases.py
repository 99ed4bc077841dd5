"""Cases through the API: a whole lifecycle, idempotent intake, photos, filters and cursor, duplicates,
and masking of reporters."""

from __future__ import annotations

import io

from PIL import Image

from tests.api.conftest import DISTRICT_DISPATCHER, HERE, SUPERVISOR, Api
from tests.api.helpers import HANDLER, case_in, photo, step, upload


def test_whole_lifecycle_with_deadlines_and_log(api: Api) -> None:
    sha = photo(api, SUPERVISOR)
    r = api.report(photos=[sha], urgency="urgent")
    assert r.status_code == 201 and r.json()["created"] is True
    case_no = r.json()["case_no"]
    step(api, case_no, "accept", "acceptor1")
    step(api, case_no, "file", "shiftleader1", standard_id=api.standard_id())
    dispatched = step(api, case_no, "dispatch", DISTRICT_DISPATCHER)
    assert dispatched["department_code"] == "91410204BHJ5Q4X12M" and dispatched["due_at"]
    step(api, case_no, "feedback", HANDLER, photos=[photo(api, HANDLER, (0, 200, 0))])
    step(api, case_no, "send_check", "acceptor1")
    step(api, case_no, "check_pass", SUPERVISOR)
    closed = step(api, case_no, "close", "shiftleader1")
    assert closed["state"] == "closed" and closed["seq"] == 8 and closed["due_at"] is None
    detail = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert [e["action"] for e in detail["log"]] == [
        "report", "accept", "file", "dispatch", "feedback", "send_check", "check_pass", "close"]  # fmt: skip
    assert detail["log"][0]["attachments"] == [sha]
    assert [s["step"] for s in detail["steps"]] == [
        "accept", "file", "dispatch", "dispose", "send_check", "check", "close"]  # fmt: skip
    assert all(s["due_at"] and s["on_time"] is True for s in detail["steps"])
    assert {p["stage"] for p in detail["photos"]} == {"report", "after"}
    image = api.get(f"/api/v1/cases/{case_no}/photos/{sha}", "acceptor1")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert api.get(f"/api/v1/cases/{case_no}/photos/{'0' * 64}", "acceptor1").status_code == 404
    again = api.act(case_no, "close", "shiftleader1")
    assert again.status_code == 409 and again.json()["code"] == "case.transition_not_allowed"


def test_idempotency_key_makes_one_case(api: Api) -> None:
    first = api.post("/api/v1/cases", SUPERVISOR, headers={"Idempotency-Key": "app-123"},
                     json={"kind": "component", "class_code": "01001", "description": "井盖缺失", **HERE})  # fmt: skip
    again = api.post("/api/v1/cases", SUPERVISOR, headers={"Idempotency-Key": "app-123"},
                     json={"kind": "component", "class_code": "01001", "description": "井盖缺失", **HERE})  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_no"] == again.json()["case_no"] and again.json()["created"] is False
    in_body = api.report(idempotency_key="app-124")
    assert in_body.status_code == 201 and in_body.json()["case_no"] != first.json()["case_no"]
    assert api.report(idempotency_key="app-124").status_code == 200


def test_duplicates_are_suggested_at_and_before_intake(api: Api) -> None:
    first = api.report().json()["case_no"]
    second = api.report(lon=HERE["lon"] + 0.0001)
    assert [d["case_no"] for d in second.json()["duplicates"]] == [first]
    found = api.get(
        f"/api/v1/cases/duplicates?kind=component&class_code=01001&lon={HERE['lon']}&lat={HERE['lat']}", "acceptor1"
    ).json()
    assert {d["case_no"] for d in found} == {first, second.json()["case_no"]}
    assert all(d["metres"] < 50 for d in found)


def test_filters_and_cursor_pages(api: Api) -> None:
    made = [api.report(description=f"问题{i}").json()["case_no"] for i in range(5)]
    dispatched = case_in(api, "dispatched")
    page1 = api.get("/api/v1/cases?limit=3", "dispatcher1").json()
    page2 = api.get(f"/api/v1/cases?limit=3&cursor={page1['next_cursor']}", "dispatcher1").json()
    seen = [c["case_no"] for c in page1["items"] + page2["items"]]
    assert seen == sorted([*made, dispatched], reverse=True) and page2["next_cursor"] is None
    by_state = api.get("/api/v1/cases?state=dispatched", "dispatcher1").json()["items"]
    assert [c["case_no"] for c in by_state] == [dispatched]
    by_department = api.get("/api/v1/cases?department=91410204BHJ5Q4X12M", "dispatcher1").json()["items"]
    assert [c["case_no"] for c in by_department] == [dispatched]
    assert len(api.get("/api/v1/cases?region=410202001009&kind=component", "dispatcher1").json()["items"]) == 6
    assert api.get("/api/v1/cases?region=410203", "dispatcher1").json()["items"] == []
    assert api.get("/api/v1/cases?source=hotline", "dispatcher1").json()["items"] == []
    assert api.get("/api/v1/cases?overdue=true", "dispatcher1").json()["items"] == []
    inside = api.get("/api/v1/cases?bbox=114.34,34.81,114.36,34.83", "dispatcher1").json()["items"]
    assert len(inside) == 6
    assert api.get("/api/v1/cases?bbox=100,20,101,21", "dispatcher1").json()["items"] == []
    since = api.get("/api/v1/cases?reported_from=2026-03-03T09:00:00%2B08:00", "dispatcher1").json()["items"]
    assert len(since) == 6
    naive = api.get("/api/v1/cases?reported_from=2026-03-03T09:00:00", "dispatcher1")
    assert naive.status_code == 422 and naive.json()["code"] == "request.invalid"


def test_reporters_are_masked_by_role_and_absent_for_citizens(api: Api) -> None:
    case_no = case_in(api, "p_reported")  # a hotline report from 王女士, 13800001111
    r = api.post(f"/api/v1/cases/{case_no}/send_verify", "acceptor1")
    assert r.status_code == 200
    full = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert (full["reporter"], full["reporter_phone"]) == ("王女士", "13800001111")
    masked = api.get(f"/api/v1/cases/{case_no}", SUPERVISOR).json()
    assert (masked["reporter"], masked["reporter_phone"]) == ("王**", "138****1111")
    listed = api.get("/api/v1/cases", "acceptor1").json()["items"][0]
    assert "reporter" not in listed and "reporter_phone" not in listed
    own = api.report("citizen_wang").json()["case_no"]
    mine = api.get(f"/api/v1/cases/{own}", "citizen_wang").json()
    assert mine["reporter"] is None and mine["reporter_phone"] is None
    assert all(e["actor"] == "" for e in mine["log"])
    staff_view = api.get(f"/api/v1/cases/{own}", "acceptor1").json()
    assert (staff_view["reporter"], staff_view["reporter_phone"]) == ("王小明", "13812345678")
    assert staff_view["log"][0]["actor"] == "citizen_wang"  # the command center sees whose account it was
    other_staff = api.get(f"/api/v1/cases/{own}", SUPERVISOR).json()
    assert other_staff["reporter"] == "王**" and other_staff["log"][0]["actor"] == "c***********"
    for e in api.get(f"/api/v1/cases/{case_no}", DISTRICT_DISPATCHER).json()["log"]:
        assert "13800001111" not in str(e)


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (16, 8), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x010F] = "CameraMaker"  # make
    exif[0x8825] = {2: (34.0, 48.0, 0.0), 4: (114.0, 20.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def test_photos_are_sniffed_and_stripped_of_metadata_but_orientation(api: Api) -> None:
    original = _jpeg_with_exif()
    with Image.open(io.BytesIO(original)) as im:
        assert im.getexif().get(0x010F) == "CameraMaker"
    stored = upload(api, SUPERVISOR, original, "x.png", "image/png")  # the declared type is not trusted
    assert stored.status_code == 201, stored.text
    assert stored.json()["content_type"] == "image/jpeg"
    data = api.evidence.get(stored.json()["sha256"])
    assert b"CameraMaker" not in data
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        assert dict(exif) == {0x0112: 6} and im.size == (16, 8)
        assert not exif.get_ifd(0x8825)
    fake = upload(api, SUPERVISOR, b"GIF89a" + b"0" * 100, "x.jpg", "image/jpeg")
    assert fake.status_code == 422 and fake.json()["code"] == "evidence.bad_type"
    broken = upload(api, SUPERVISOR, original[:200], "x.jpg", "image/jpeg")
    assert broken.status_code == 422 and broken.json()["code"] == "evidence.corrupt"
    unknown = api.report(photos=["f" * 64])
    assert unknown.status_code == 422 and unknown.json()["code"] == "evidence.not_found"
