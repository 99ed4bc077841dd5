"""The supervisor's field page through a lost connection, the admin pages, and the evaluation pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.browser.conftest import SH, Pages, Site
from tests.browser.test_journeys import GPS, png


def test_field_report_snaps_to_the_grid_and_survives_a_lost_connection(pages: Pages, site: Site) -> None:
    page = pages.open("supervisor_410202001", "/console/field.html", phone=True, **GPS)
    page.wait_for_selector("body[data-ready]")
    assert page.evaluate("document.querySelector('link[rel=manifest]').href").endswith("manifest.webmanifest")
    page.select_option("#report select[name=class]", "component:01001")
    page.click("#gps")
    page.wait_for_function("document.getElementById('place').textContent.includes('单元网格 41')")
    place = page.locator("#place").text_content() or ""
    assert "龙亭区" in place
    page.fill("#report textarea[name=description]", "井盖破损（离线草稿测试）")
    page.fill("#report input[name=address]", "龙亭公园东门")
    page.set_input_files("#report input[name=photo]", png((200, 200, 0)))

    page.context.set_offline(True)
    page.click("#report button[type=submit]")
    page.wait_for_function("document.getElementById('draft-count').textContent === '(1)'")
    pages.shot(page, "draft-kept")
    assert page.evaluate("JSON.parse(localStorage.getItem('xiuhua.drafts')).length") == 1

    page.context.set_offline(False)
    page.click("[data-tab=drafts]")
    page.click("#send-drafts")
    page.wait_for_function("document.getElementById('draft-count').textContent === ''")
    found = site.call("GET", "/api/v1/cases?source=supervisor&limit=5", "admin")["items"]
    mine = [c for c in found if c["description"] == "井盖破损（离线草稿测试）"]
    assert len(mine) == 1 and mine[0]["grid_code"]
    case = site.call("GET", f"/api/v1/cases/{mine[0]['case_no']}", "admin")
    assert len(case["photos"]) == 1


def test_admin_edits_a_table_and_sees_row_errors(pages: Pages, site: Site) -> None:
    page = pages.open("admin", "/console/admin.html")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_function("document.querySelectorAll('#rows tbody tr').length > 10")
    assert page.locator("#layers tbody tr").count() == 10
    assert page.locator("#audit tbody tr").count() >= 1
    page.fill("#filter", "leader")
    row = page.locator("#rows tbody tr:not([hidden])").filter(has=page.locator("input[value=leader]")).first
    row.locator("input[data-column=name]").fill("市领导（改名）")
    page.click("#save")
    page.wait_for_function("document.getElementById('table-result').textContent.startsWith('已保存')")
    staff = site.call("GET", "/api/v1/tables/staff", "admin")
    names = {r[0]: r[1] for r in staff["rows"]}
    assert names["leader"] == "市领导（改名）"

    page.fill("#filter", "leader")
    row = page.locator("#rows tbody tr:not([hidden])").filter(has=page.locator("input[value=leader]")).first
    row.locator("input[data-column=roles]").fill("国王")
    page.click("#save")
    page.wait_for_function("document.getElementById('table-result').className === 'error'")
    assert "行" in (page.locator("#table-result").text_content() or "")
    pages.shot(page, "admin-row-error")
    assert {r[0]: r[2] for r in site.call("GET", "/api/v1/tables/staff", "admin")["rows"]}["leader"] == "领导"


def test_evaluation_ranks_drills_down_and_shows_the_ledger(pages: Pages) -> None:
    period = (datetime.now(SH) - timedelta(days=2)).strftime("%Y-%m")
    page = pages.open("leader", f"/console/evaluation.html?period={period}")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_function("document.querySelectorAll('#ranking tbody tr[data-code]').length > 0")
    assert "案件" in (page.locator("#summary").text_content() or "")
    page.locator("#ranking tbody tr[data-code] a[data-indicator=close_rate]").first.click()
    page.wait_for_selector("#drill h3")
    assert "结案率" in (page.locator("#drill h3").text_content() or "")
    assert "奖惩资金" in (page.locator("#fund").text_content() or "")
    page.wait_for_function("document.querySelectorAll('#ledger tbody tr').length > 0")
    kinds = set(page.locator("#ledger tbody tr td:first-child").all_text_contents())
    assert {"区", "街道", "专业部门"} <= kinds, kinds  # every paid kind of unit, not departments alone
    assert "结余" in (page.locator("#fund").text_content() or "")
    assert page.locator("#campaigns .campaign").count() >= 1
    assert page.errors == []  # type: ignore[attr-defined]
    pages.shot(page, "evaluation")
    page.select_option("#pick select[name=object_type]", "department")
    page.click("#pick button[type=submit]")
    page.wait_for_function("document.querySelector('#ranking thead').textContent.includes('按期处置率')")


def test_a_period_is_downloaded_frozen_appealed_and_decided(pages: Pages) -> None:
    today = datetime.now(SH).date()
    period = f"{today - timedelta(days=2)}~{today - timedelta(days=1)}"  # the simulated days, both ended
    page = pages.open("leader", f"/console/evaluation.html?period={period}&object_type=department")
    page.wait_for_selector("body[data-ready]")
    assert "尚未冻结" in (page.locator("#frozen-state").text_content() or "")
    with page.expect_download() as download:
        page.click("#download-xlsx")
    assert download.value.suggested_filename == f"evaluation-{period}.xlsx"
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    page.click("#freeze")
    page.wait_for_function("document.getElementById('frozen-state').textContent.includes('第 1 版')")
    assert page.locator("#freeze").is_hidden()
    # A department with a case still open at the end has a deduction on 结案率 it may appeal.
    rates = page.locator("#ranking tbody a[data-indicator=close_rate]")
    values = rates.all_text_contents()
    below = next(i for i, v in enumerate(values) if v not in ("100.0%", "—"))
    rates.nth(below).click()
    appeal = page.locator("#drill form.appeal").first
    appeal.locator("input[name=reason]").fill("该路段施工封闭，无法进入处置")
    appeal.locator("button[type=submit]").click()
    page.wait_for_selector("#appeals tbody tr[data-status=pending]")
    pages.shot(page, "appeal-pending")
    row = page.locator("#appeals tbody tr[data-status=pending]").first
    row.locator("input[name=decision]").fill("情况属实")
    row.locator("button.approve").click()
    page.wait_for_function("document.getElementById('frozen-state').textContent.includes('第 2 版')")
    page.wait_for_selector("#appeals tbody tr[data-status=approved]")
    assert "已冻结（第 2 版）" in (page.locator("#summary").text_content() or "")
    assert page.errors == []  # type: ignore[attr-defined]
    pages.shot(page, "appeal-approved")
