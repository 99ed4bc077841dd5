"""End-to-end journeys clicked through the console: a citizen's report through every step to a rated
closure, and a dispatcher who may not see another district's case."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.browser.conftest import Pages, Site

HERE = {"lon": 114.34902, "lat": 34.81873}
GPS = {"geolocation": {"longitude": HERE["lon"], "latitude": HERE["lat"]}, "permissions": ["geolocation"]}


def png(color: tuple[int, int, int]) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "PNG")
    return {"name": "photo.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def detail(site: Site, case_no: str) -> dict[str, Any]:
    return dict(site.call("GET", f"/api/v1/cases/{case_no}", "admin"))


def act(pages: Pages, user: str, case_no: str, action: str, then: str, **fill: Any) -> Any:
    """Open the case page as ``user``, take ``action`` through its dialog, and wait for state ``then``."""
    page = pages.open(user, f"/console/case.html?no={case_no}")
    page.wait_for_selector("body[data-ready]")
    buttons = page.locator("#actions button")
    page.click(f"#actions button[data-action={action}]")
    page.wait_for_selector("#act[open]")
    for selector, value in fill.get("inputs", {}).items():
        page.fill(selector, value)
    if "photo" in fill:
        page.set_input_files("#act input[name=photos]", fill["photo"])
    pages.shot(page, f"{action}-dialog")
    page.click("#act-submit")
    page.wait_for_selector(f"#state[data-state={then}]")
    assert page.errors == []  # type: ignore[attr-defined]
    return buttons


def test_citizen_report_goes_through_every_step_to_a_rated_closure(pages: Pages, site: Site) -> None:
    # 1. A citizen picks a problem in plain words, points at the map, adds a photo and gets a tracking code.
    citizen = pages.open(None, "/console/citizen.html", phone=True)
    citizen.fill("#login input[name=username]", "citizen_demo")
    citizen.fill("#login input[name=password]", "Xiuhua2026")
    citizen.click("#login button[type=submit]")
    citizen.wait_for_selector("body[data-ready] #app:not([hidden])")
    citizen.click("#types button[data-type='0']")  # 井盖破损、丢失
    box = citizen.locator("#map").bounding_box()
    spot = citizen.evaluate(f"window.xiuhuaMap.project([{HERE['lon']}, {HERE['lat']}])")
    citizen.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    citizen.wait_for_function("document.getElementById('point').textContent.startsWith('已选点')")
    citizen.fill("#report input[name=address]", "龙亭公园东门")
    citizen.set_input_files("#report input[name=photo]", png((120, 90, 60)))
    citizen.click("#report button[type=submit]")
    case_no = citizen.locator("#code").text_content()
    assert case_no and case_no.isdigit()
    pages.shot(citizen, "citizen-tracking-code")
    case = detail(site, case_no)
    assert case["source"] == "public" and case["state"] == "reported" and case["grid_code"]
    assert [p["stage"] for p in case["photos"]] == ["report"]
    street, district = case["street_code"], case["district_code"]

    # 2. The acceptor sends it for on-site verification (a public report is verified before filing).
    act(pages, "acceptor1", case_no, "send_verify", "verifying")

    # 3. The street's supervisor verifies it from the field page's task list, with a photo.
    field = pages.open(f"supervisor_{street}", "/console/field.html?tab=tasks", phone=True, **GPS)
    task = field.locator(f"#tasks li[data-case-no='{case_no}']")
    task.wait_for()
    assert "导航前往" in (task.text_content() or "")
    task.locator("input[name=photo]").set_input_files(png((30, 160, 30)))
    task.locator("button[data-action=verify]").click()
    field.wait_for_selector(f"#tasks li[data-case-no='{case_no}']", state="detached")
    assert detail(site, case_no)["state"] == "accepted"

    # 4. The shift leader files it under the class's case standard.
    act(pages, "shiftleader1", case_no, "file", "filed")

    # 5. The district dispatcher dispatches it; the dialog shows the routing suggestion.
    page = pages.open(f"dispatcher_{district}", f"/console/case.html?no={case_no}")
    page.wait_for_selector("body[data-ready]")
    page.click("#actions button[data-action=dispatch]")
    page.wait_for_selector("#suggestion")
    assert "路由建议" in (page.locator("#suggestion").text_content() or "")
    suggested = page.locator("#act select[name=department_code]").input_value()
    assert suggested
    page.click("#act-submit")
    page.wait_for_selector("#state[data-state=dispatched]")
    handler = "handler_" + suggested.lower()

    # 6. The department disposes with a photo; 回退/延期/挂账 are offered and ask for a reason.
    page = pages.open(handler, f"/console/case.html?no={case_no}")
    page.wait_for_selector("body[data-ready]")
    offered = set(page.locator("#actions button").evaluate_all("bs => bs.map(b => b.dataset.action)"))
    assert offered == {"feedback", "return", "request_extension", "request_park"}
    page.click("#actions button[data-action=return]")
    assert page.locator("#act textarea[name=reason]").get_attribute("required") is not None
    page.click("#act-cancel")
    act(pages, handler, case_no, "feedback", "disposed", photo=png((20, 20, 200)))

    # 7. The acceptor sends it for checking, and the supervisor passes the check in the field.
    act(pages, "acceptor1", case_no, "send_check", "checking")
    field = pages.open(f"supervisor_{street}", "/console/field.html?tab=tasks", phone=True, **GPS)
    task = field.locator(f"#tasks li[data-case-no='{case_no}']")
    task.wait_for()
    task.locator("button[data-action=check_pass]").click()
    field.wait_for_selector(f"#tasks li[data-case-no='{case_no}']", state="detached")

    # 8. The shift leader closes it; the case page shows the whole log and every photo.
    act(pages, "shiftleader1", case_no, "close", "closed")
    page = pages.open("leader", f"/console/case.html?no={case_no}")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_function("document.querySelectorAll('#photos img').length === 3")
    actions = page.locator("#log li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == ["report", "send_verify", "verify", "file", "dispatch", "feedback", "send_check", "check_pass",
                       "close"]  # fmt: skip
    assert page.locator("#steps tbody tr").count() >= 5
    pages.shot(page, "closed-case")

    # 9. The citizen follows the status with the tracking code and rates the result.
    citizen.goto(f"/console/citizen.html?no={case_no}")
    citizen.wait_for_selector("#public-state[data-state=closed]")
    citizen.click("#rate button[data-score='5']")
    citizen.wait_for_selector("#rated")
    assert "★★★★★" in (citizen.locator("#rated").text_content() or "")
    pages.shot(citizen, "citizen-rated")
    rating = site.call("GET", f"/api/v1/console/cases/{case_no}/rating", "citizen_demo")
    assert rating["score"] == 5
    again = site.http.post(
        f"/api/v1/console/cases/{case_no}/rating",
        json={"score": 1},
        headers={"Authorization": f"Bearer {site.token('citizen_demo')}"},
    )
    assert again.status_code == 409 and again.json()["code"] == "rating.duplicate"


def test_a_dispatcher_cannot_see_another_districts_case(pages: Pages, site: Site) -> None:
    body = {"kind": "component", "class_code": "01001", "description": "井盖缺失（范围测试）",
            "address": "龙亭公园东门", **HERE}  # fmt: skip
    case_no = site.call("POST", "/api/v1/cases", "acceptor1", json={**body, "source": "hotline"})["case_no"]
    assert detail(site, case_no)["district_code"] == "410202"
    page = pages.open("dispatcher_410203", f"/console/case.html?no={case_no}")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#case").is_hidden()
    message = page.locator("#problem").text_content() or ""
    assert case_no in message or "无权" in message or "不存在" in message
    pages.shot(page, "scope-denied")
    work = pages.open("dispatcher_410203", "/console/work.html")
    work.wait_for_selector("body[data-ready]")
    assert work.locator(f"a[href='case.html?no={case_no}']").count() == 0
    own = pages.open("dispatcher_410202", f"/console/case.html?no={case_no}")
    own.wait_for_selector("body[data-ready]")
    assert own.locator("#case-no").text_content() == case_no
