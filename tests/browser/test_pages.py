"""Every console page loads in a real browser without script errors."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Pages, Site


def test_login_page_rejects_a_wrong_password_in_chinese(pages: Pages) -> None:
    page = pages.open(None, "/console/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    message = page.locator("#message")
    message.wait_for()
    page.wait_for_function("document.getElementById('message').textContent.length > 0")
    assert "密码" in message.text_content() or "用户名" in message.text_content()
    assert page.url.endswith("/console/")
    pages.shot(page, "login-refused")


def test_the_site_root_leads_to_the_console(pages: Pages) -> None:
    page: Any = pages.open(None, "/")
    assert page.url.endswith("/console/")
    assert page.title() == "绣花 · 登录"


def test_workbench_queue_counts_down_and_takes_a_bulk_action(pages: Pages, site: Site) -> None:
    body = {"kind": "component", "class_code": "01001", "address": "龙亭公园东门", "lon": 114.34902, "lat": 34.81873}
    made = [
        site.call("POST", "/api/v1/cases", "supervisor_410202001", json={**body, "description": f"批量受理测试{i}"})[
            "case_no"
        ]
        for i in range(2)
    ]
    page = pages.open("acceptor1", "/console/work.html")
    page.wait_for_selector("body[data-ready]")
    cells = page.locator("#queue tbody td.countdown").all_text_contents()
    assert cells and all(c.startswith(("剩余", "超期", "计时暂停")) for c in cells)
    due = page.locator("#queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.children[5].textContent).filter(t => t !== '—')"
    )
    assert due == sorted(due)  # nearest deadline first (same year, MM/DD HH:MM sorts as text)
    for case_no in made:
        page.check(f"#queue tr[data-case-no='{case_no}'] input.pick")
    page.select_option("#bulk-action", "accept")
    page.click("#bulk-run")
    page.wait_for_selector(f"#queue tr[data-case-no='{made[0]}']", state="detached")
    for case_no in made:
        assert site.call("GET", f"/api/v1/cases/{case_no}", "admin")["state"] == "accepted"
    pages.shot(page, "workbench")
